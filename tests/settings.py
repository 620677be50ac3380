"""Test settings: the real settings, with a test secret key and fast password hashing."""

import os
import uuid

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
# Rate limits and the two-server test share counts through Redis, as production does.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/2")
# This run's own keys: another run, or anything else using that Redis database, is never read
# or cleared (tests/conftest.py clears this prefix only). Servers the tests start inherit it.
os.environ.setdefault("TEST_CACHE_PREFIX", f"cfe-test-{uuid.uuid4().hex[:12]}")

from callforevidence.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
WHITENOISE_AUTOREFRESH = True  # no collectstatic in tests
CACHES["default"]["KEY_PREFIX"] = os.environ["TEST_CACHE_PREFIX"]  # noqa: F405

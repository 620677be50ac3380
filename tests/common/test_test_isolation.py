"""The test suite keeps to its own: its Redis keys carry this run's prefix, and clearing them
between tests leaves everything else in that database alone."""

import redis
from django.conf import settings
from django.core.cache import cache

from ..conftest import clear_this_runs_cache


def test_clearing_between_tests_deletes_this_runs_keys_and_nothing_else():
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    assert prefix.startswith("cfe-test-")
    other = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    other.set("someone-elses-key", "kept", ex=60)
    cache.set("ours", 1)
    assert other.exists(cache.make_key("ours"))
    try:
        clear_this_runs_cache()
        assert cache.get("ours") is None
        assert other.get("someone-elses-key") == b"kept"
    finally:
        other.delete("someone-elses-key")

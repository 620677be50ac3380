"""Checks on the settings the site is served with."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MIN_SECRET_KEY_LENGTH = 50


def require_strong_secret_key() -> None:
    """Refuse to serve with DEBUG off and a SECRET_KEY under 50 characters.

    Django's deploy check only warns (security.W009); a short key signs sessions and CSRF
    tokens guessably. Called by wsgi.py and asgi.py, so one-off commands (a migration in a
    build step) still run with a placeholder key.
    """
    if not settings.DEBUG and len(settings.SECRET_KEY) < MIN_SECRET_KEY_LENGTH:
        raise ImproperlyConfigured(
            f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters when DEBUG is off, "
            "e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )

"""Checks on the settings the site is served with, and on the database it uses."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

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


@checks.register(checks.Tags.database)
def autovacuum_is_on(databases=None, **kwargs) -> list[checks.CheckMessage]:
    """Warn when PostgreSQL's autovacuum is off: nothing then refreshes the planner's statistics.

    Without them, right after a bulk load or a burst of submissions, the planner takes a million
    rows for a handful: the submissions list took 4 to 8 s a page at 1,000,000 submissions
    (docs/benchmarks.md). Runs with `migrate` and `check --database default`.
    """
    warnings: list[checks.CheckMessage] = []
    for alias in databases or []:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        with connection.cursor() as cursor:
            cursor.execute("SHOW autovacuum")
            (setting,) = cursor.fetchone()
        if setting != "on":
            warnings.append(
                checks.Warning(
                    f"PostgreSQL's autovacuum is off for the database {alias!r}.",
                    hint="Turn it on (the default), or run ANALYZE after every bulk load: "
                    "without fresh statistics the admin's list takes seconds a page at a "
                    "million submissions.",
                    id="submissions.W010",
                )
            )
    return warnings

"""The test suite keeps to its own: its Redis keys carry this run's prefix, and clearing them
between tests leaves everything else in that database alone; and a browser test leaves no
database connection open, which would keep the test database from being dropped at the end."""

import time

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection

from ..browser import chromium_open
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


def other_sessions_on_the_test_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="counts PostgreSQL's sessions")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_browser_test_leaves_no_database_connection_open(monkeypatch):
    with chromium_open(monkeypatch) as chromium:
        page = chromium.new_page()
        page.set_content("<p>A page</p>")
        assert not User.objects.exists()  # the ORM, while Playwright runs

    deadline = time.monotonic() + 5  # a closed session leaves pg_stat_activity in a moment
    while other_sessions_on_the_test_database() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert other_sessions_on_the_test_database() == 0

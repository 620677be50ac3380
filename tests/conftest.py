import pytest
from django.test import TestCase, TransactionTestCase
from pytest_django.fixtures import validate_django_db

from submissions.models import Call

# The loopback mail servers (working, refusing, hung) for the email tests, and Chromium.
pytest_plugins = ["tests.mailserver", "tests.browser"]

# Every transactional test restores the database. pytest-django runs a transactional test as
# Django's TransactionTestCase, which flushes the database when the test ends: without
# serialized_rollback the migrations' data (the seeded call) is gone and the content types come
# back under new ids, so later tests fail at setup. So, for each collected test, we ask
# pytest-django's own rules, and stop the run at collection naming every test that would do it.
TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}


def transactional_and_restored(item: pytest.Item) -> tuple[bool, bool]:
    """Whether the test runs transactionally, and whether it restores the database after."""
    cls = getattr(item, "cls", None)
    if cls and issubclass(cls, TransactionTestCase):  # a Django unittest class: its own flags
        return not issubclass(cls, TestCase), bool(cls.serialized_rollback)
    # The closest django_db mark (the test's, else its class's, else its module's pytestmark),
    # read by pytest-django's own parser: by position or keyword, all off without a mark.
    # Its tuple is (transaction, reset_sequences, databases, serialized_rollback, ...): read by
    # position, not unpacked, so a field a later pytest-django adds at the end breaks nothing.
    marker = item.get_closest_marker("django_db")
    parsed = validate_django_db(marker) if marker else (False, False, None, False)
    transaction, reset_sequences, serialized_rollback = parsed[0], parsed[1], parsed[3]
    fixtures = set(getattr(item, "fixturenames", ()))  # the whole closure, fixtures' fixtures too
    return (
        bool(transaction or reset_sequences or fixtures & TRANSACTIONAL_FIXTURES),
        bool(serialized_rollback or "django_db_serialized_rollback" in fixtures),
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    offenders = [i.nodeid for i in items if transactional_and_restored(i) == (True, False)]
    if offenders:  # a UsageError ends the run with just this message, and exit status 4
        raise pytest.UsageError(
            "these transactional tests flush the database for the tests after them; add "
            "serialized_rollback=True to their django_db mark (or request the "
            "django_db_serialized_rollback fixture):\n  " + "\n  ".join(offenders)
        )


@pytest.fixture
def seeded_call(db) -> Call:
    """The What Works: Social Media call, as the data migration created it."""
    return Call.objects.get(slug="what-works-social-media")


@pytest.fixture(autouse=True)
def attachments_root(settings, tmp_path):
    """Every test stores attachments in its own temporary folder, on local disk."""
    root = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "submissions.common.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
        "releases": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "releases")},
        },
    }
    return root


def clear_this_runs_cache() -> None:
    """Delete this run's keys only, never the whole Redis database: cache.clear() would flush
    whatever others keep there (another test run, a developer's server)."""
    from django.conf import settings
    from django.core.cache import cache

    prefix = settings.CACHES["default"].get("KEY_PREFIX")
    if not prefix:
        cache.clear()  # a cache of this process's own (local memory)
        return
    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]  # RedisCache's
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def empty_cache():
    """Rate-limit counts start from nothing in every test."""
    clear_this_runs_cache()


@pytest.fixture(autouse=True)
def free_download_slots(settings):
    """Each test starts with every open-data download slot free: the test client closes a
    streamed response (giving its slot back) only once a test reads it to its end."""
    import threading

    from submissions.publishing import views

    views.DOWNLOADS = threading.BoundedSemaphore(settings.OPEN_DATA_DOWNLOADS_PER_PROCESS)

import pytest

from submissions.models import Call

# The loopback mail servers (working, refusing, hung) for the email tests, and Chromium.
pytest_plugins = ["tests.mailserver", "tests.browser"]


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

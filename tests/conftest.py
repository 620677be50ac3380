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

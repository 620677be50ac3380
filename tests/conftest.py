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
    }
    return root


@pytest.fixture(autouse=True)
def empty_cache():
    """Rate-limit counts start from nothing in every test (the tests' own Redis database)."""
    from django.core.cache import cache

    cache.clear()

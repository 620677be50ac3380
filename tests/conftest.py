import pytest

from submissions.models import Call


@pytest.fixture
def seeded_call(db) -> Call:
    """The What Works: Social Media call, as the data migration created it."""
    return Call.objects.get(slug="what-works-social-media")

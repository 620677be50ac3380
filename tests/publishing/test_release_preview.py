"""The release preview at scale: on PostgreSQL it compares only the submissions the database
marked since the latest release (models.PublicChange, kept by triggers), and says exactly what
comparing everything says; the contributors' journey marks nothing."""

import random

import pytest
from django.db import connection
from django.urls import reverse

from submissions.models import PublicChange, Submission, Theme
from submissions.publishing.releases import all_changes, latest_release, pending_changes
from tests.factories import make_call, make_call_manager, make_submission
from tests.publishing.helpers import INCLUDED, publish

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the marks are kept by PostgreSQL's triggers; SQLite compares everything",
    ),
]


def as_compared(changes):
    return (
        changes.added_count,
        changes.changed_count,
        changes.removed_count,
        changes.added,
        changes.changed,
        changes.removed,
    )


def test_the_marked_changes_are_what_comparing_everything_finds():
    rng = random.Random(26)
    call = make_call()
    themes = [Theme.objects.create(name=n) for n in ("Podcasts", "Video", "Schools")]
    subs = [make_submission(call, review_status=INCLUDED, name=f"Person {n}") for n in range(40)]
    for sub in subs:
        sub.themes.set(rng.sample(themes, rng.randint(0, 2)))
    publish(call)
    for sub in rng.sample(subs, 25):
        what = rng.choice(["name", "org", "credit", "co", "theme+", "theme-", "out", "withhold"])
        rows = Submission.objects.filter(pk=sub.pk)
        if what == "name":
            rows.update(name=sub.name + " Jr")
        elif what == "org":
            rows.update(organisation="Elsewhere")
        elif what == "credit":
            rows.update(credit_preference=Submission.Credit.NONE)
        elif what == "co":
            rows.update(co_contributors=[{"name": "Co Worker", "organisation": "", "orcid": ""}])
        elif what == "theme+":
            sub.themes.add(themes[2])
        elif what == "theme-":
            sub.themes.clear()
        elif what == "out":
            rows.update(review_status="not_included")
        else:
            rows.update(withheld_from_open_data=True)
    for n in range(5):
        make_submission(call, review_status=INCLUDED, name=f"New {n}")
    later = make_submission(call, name="Included later")
    Submission.objects.filter(pk=later.pk).update(review_status=INCLUDED)

    marked = pending_changes(call, sample=10)
    everything = all_changes(call, latest_release(call), sample=10)

    assert as_compared(marked) == as_compared(everything)
    assert marked.added_count == 6 and marked.changed_count + marked.removed_count > 10


def test_nothing_changed_since_the_release_compares_nothing(client, django_assert_num_queries):
    call = make_call()
    for n in range(30):
        make_submission(call, review_status=INCLUDED, name=f"P {n}")
    publish(call)
    PublicChange.objects.update(changed_at="2000-01-01T00:00:00Z")  # marked long before it
    client.force_login(make_call_manager())
    url = reverse("admin:submissions_call_releases", args=[call.pk])
    client.get(url)

    # Session, user, permissions (2), call, latest release, the job, the latest release again,
    # the marks since, the releases.
    with django_assert_num_queries(10):
        page = client.get(url)

    assert "Nothing has changed since release 1." in page.text


def test_the_journey_marks_nothing():
    call = make_call()
    draft = make_submission(call, state=Submission.State.DRAFT, name="Drafting")
    Submission.objects.filter(pk=draft.pk).update(name="Still drafting", organisation="Org")
    submitted = make_submission(call, name="Sent")
    Submission.objects.filter(pk=submitted.pk).update(name="Sent again")

    assert not PublicChange.objects.exists()
    Submission.objects.filter(pk=submitted.pk).update(review_status=INCLUDED)
    assert list(PublicChange.objects.values_list("submission_id", flat=True)) == [submitted.pk]

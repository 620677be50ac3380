"""The release step: "Included in toolkit" is a review decision; a call manager publishes a
numbered, dated release, seeing first what it adds, changes and removes; contributors are told
once, by email, when their contribution first appears."""

import re

import pytest
from django.core import mail
from django.db import IntegrityError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from submissions.models import OutgoingEmail, PublicContribution, Release, Submission, Theme
from submissions.outbox import queue as outbox
from submissions.outbox.queue import announce_release
from submissions.publishing.releases import pending_changes, publish_release, take_down
from tests.factories import make_call, make_call_manager, make_reviewer, make_submission
from tests.publishing.helpers import INCLUDED, json_rows, page_url, public_id, publish
from tests.races import at_once
from tests.worker import run_worker

pytestmark = pytest.mark.django_db

Credit = Submission.Credit


def releases_url(call) -> str:
    return reverse("admin:submissions_call_releases", args=[call.pk])


def publish_form(number: int, **fields) -> dict:
    return {"number": number, "notes": "", "checked": "on", **fields}


def public_pages(client, call, submission) -> list[int]:
    return [
        client.get(reverse("credits", args=[call.slug])).status_code,
        client.get(reverse("open_data", args=[call.slug])).status_code,
        client.get(reverse("open_data_file", args=[call.slug, "contributions.csv"])).status_code,
    ]


def test_a_reviewer_includes_a_contribution_and_nothing_public_changes(client):
    call = make_call()
    first = make_submission(call, review_status=INCLUDED, name="First Person")
    publish(call)
    second = make_submission(call, name="Second Person")
    staff = Client()
    staff.force_login(make_reviewer(every_call=True))
    staff.post(
        reverse("admin:submissions_submission_changelist"),
        {"action": "set_status_included", "_selected_action": [second.pk]},
    )
    second.refresh_from_db()
    assert second.review_status == INCLUDED

    assert [row["credit"] for row in json_rows(client, call)] == [first.credit_line()]
    assert "Second Person" not in client.get(reverse("credits", args=[call.slug])).text
    assert not PublicContribution.objects.filter(submission=second).exists()


def test_the_release_page_shows_what_will_be_added_changed_and_removed(client):
    call = make_call()
    kept = make_submission(call, review_status=INCLUDED, name="Kept Person")
    renamed = make_submission(call, review_status=INCLUDED, name="Old Name")
    dropped = make_submission(call, review_status=INCLUDED, name="Dropped Person")
    publish(call)
    Submission.objects.filter(pk=renamed.pk).update(name="New Name")
    Submission.objects.filter(pk=dropped.pk).update(review_status="not_included")
    kept.themes.add(Theme.objects.create(name="Schools"))
    added = make_submission(call, review_status=INCLUDED, name="Added Person")
    make_submission(call, review_status="shortlisted", name="Shortlisted Person")
    client.force_login(make_call_manager())

    response = client.get(releases_url(call))

    changes = response.context["changes"]
    assert [c.reference for c in changes.added] == [added.reference]
    assert {c.reference: c.what for c in changes.changed} == {
        renamed.reference: "credit line, was “Old Name, University of Somewhere”",
        kept.reference: "themes",
    }
    assert [c.reference for c in changes.removed] == [dropped.reference]
    assert "<strong>1</strong> added, <strong>2</strong> changed, <strong>1</strong> removed" in (
        response.text
    )
    assert 'value="Publish release 2"' in response.text
    assert "Shortlisted Person" not in response.text


def test_a_call_manager_publishes_release_1_and_everything_is_public(client):
    call = make_call()
    submission = make_submission(call, review_status=INCLUDED, name="Ada Lovelace")
    staff = Client()
    staff.force_login(make_call_manager(first_name="Bob", last_name="Manager"))
    assert public_pages(client, call, submission) == [404, 404, 404]

    response = staff.post(releases_url(call), publish_form(1, notes="The first release."))

    assert response.status_code == 302
    release = Release.objects.get(call=call)
    assert (release.number, release.published_by_name, release.notes) == (
        1,
        "Bob Manager",
        "The first release.",
    )
    assert public_pages(client, call, submission) == [200, 200, 200]
    assert client.get(page_url(call, submission)).status_code == 200
    followed = staff.get(releases_url(call))
    assert "Release 1 published: 1 contributions, 1 new" in followed.text
    assert "Nothing has changed since release 1." in followed.text


def test_publishing_needs_the_check_box_ticked(client):
    call = make_call()
    make_submission(call, review_status=INCLUDED)
    client.force_login(make_call_manager())

    response = client.post(releases_url(call), publish_form(1, checked=""))

    assert response.status_code == 200
    assert "Confirm that you have read what this release adds and changes" in response.text
    assert not Release.objects.exists()


def test_there_is_nothing_to_publish_before_anything_is_included(client):
    call = make_call()
    make_submission(call)
    client.force_login(make_call_manager())

    response = client.post(releases_url(call), publish_form(1))

    assert "No contribution is included in the toolkit yet." in response.text
    assert not Release.objects.exists()


def test_pressing_publish_twice_publishes_once_and_emails_each_contributor_once(client):
    call = make_call()
    make_submission(call, review_status=INCLUDED, email="ada@example.org")
    make_submission(call, review_status=INCLUDED, email="grace@example.org")
    client.force_login(make_call_manager())

    client.post(releases_url(call), publish_form(1))
    second = client.post(releases_url(call), publish_form(1), follow=True)
    run_worker()
    run_worker()

    assert Release.objects.filter(call=call).count() == 1
    assert "Release 1 was already published" in second.text
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.org", "grace@example.org"]
    # Running the announcement again (a duplicate task, a second worker) sends nothing more.
    announce_release.call(Release.objects.get(call=call).pk)
    run_worker()
    assert len(mail.outbox) == 2


def test_the_announcement_is_a_long_job_so_no_email_waits_behind_it(client):
    call = make_call()
    make_submission(call, review_status=INCLUDED)

    publish(call)
    outbox.queue("receipt", ["ada@example.org"], call, Submission.objects.get())

    announcing = DBTaskResult.objects.get(task_path__endswith="announce_release")
    assert (announcing.queue_name, announcing.priority) == ("documents", -10)
    # A worker that takes both queues sends the waiting email first.
    first = DBTaskResult.objects.ready().first()
    assert first is not None and first.task_path.endswith("deliver_email")


def test_announcing_1200_contributions_takes_a_few_queries_a_batch_once_each(client):
    call = make_call()
    for n in range(1202):
        make_submission(call, review_status=INCLUDED, email=f"p{n}@example.org")
    release = publish(call)
    take_down(Submission.objects.get(email="p0@example.org"))
    Submission.objects.get(email="p1@example.org").erase()
    published = OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.PUBLISHED)

    with CaptureQueriesContext(connection) as captured:
        assert announce_release.call(release.pk) == "queued 1200"

    inserts = [q["sql"].split('"')[1] for q in captured if q["sql"].startswith("INSERT INTO")]
    # Whether any is left; its fallback task; the release's call. Each batch of 500: its
    # savepoint, its contributions (locked, skipping those another run holds), one INSERT of
    # emails and one of their tasks, marking them announced, the savepoint's release; then
    # the savepoint, no more, its release.
    assert len(captured) - len(inserts) == 2 + 3 * 4 + 3  # all but the INSERTs, counted below
    if connection.vendor == "postgresql":
        assert sorted(inserts) == [
            *["django_tasks_database_dbtaskresult"] * 4,  # and the fallback
            *["submissions_outgoingemail"] * 3,
        ]
    else:  # SQLite takes 999 parameters a statement: bulk_create splits each batch's INSERTs
        assert set(inserts) == {"django_tasks_database_dbtaskresult", "submissions_outgoingemail"}
        assert len(inserts) < 1200 // 20  # 40 here: tens, never one an email
    assert published.count() == 1200
    addresses = sorted(published.values_list("to", flat=True))
    assert addresses == sorted(f"p{n}@example.org" for n in range(2, 1202))
    email = published.get(to="p2@example.org")
    assert (email.submission.email, email.params["release"]) == ("p2@example.org", release.pk)
    # Run again (a second worker, the fallback): nobody is announced twice.
    assert announce_release.call(release.pk) == "nothing to announce"
    assert published.count() == 1200


def test_the_email_gives_the_page_the_credit_line_as_shown_and_the_status_link(client):
    call = make_call(title="What Works: Testing")
    submission = make_submission(
        call, review_status=INCLUDED, name="Ada Lovelace", organisation="Engines"
    )
    publish(call)
    run_worker()

    (email,) = mail.outbox
    assert email.to == [submission.email]
    assert email.subject == "Your evidence to What Works: Testing is published"
    assert f"http://127.0.0.1:8000{page_url(call, submission)}" in email.body
    assert "> Ada Lovelace, Engines" in email.body
    status_link = re.search(r"http://127\.0\.0\.1:8000/[^/]+/status/[\w-]+/", email.body)
    assert status_link is not None
    opened = Client().get(status_link.group().removeprefix("http://127.0.0.1:8000"), follow=True)
    assert "Published in release 1" in opened.text
    assert f'href="{page_url(call, submission)}"' in opened.text
    html, _type = email.alternatives[0]
    assert f'href="http://127.0.0.1:8000{page_url(call, submission)}"' in html


def test_a_later_release_emails_only_those_new_in_it(client):
    call = make_call()
    make_submission(call, review_status=INCLUDED, email="first@example.org")
    publish(call)
    run_worker()
    make_submission(call, review_status=INCLUDED, email="second@example.org")
    Submission.objects.filter(email="first@example.org").update(name="Renamed")
    publish(call)
    run_worker()

    assert [m.to[0] for m in mail.outbox] == ["first@example.org", "second@example.org"]
    assert OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.PUBLISHED).count() == 2


def test_the_public_id_is_stable_across_releases_and_unrelated_to_the_reference(client):
    call = make_call()
    submission = make_submission(call, review_status=INCLUDED)
    publish(call)
    first = public_id(submission)
    make_submission(call, review_status=INCLUDED)
    publish(call)

    assert public_id(submission) == first
    assert [row["public_id"] for row in json_rows(client, call, 1)] == [first]
    assert json_rows(client, call, 2)[0]["public_id"] == first
    assert re.fullmatch(r"[a-z2-9]{12}", first)
    assert submission.reference.lower() not in first
    assert str(submission.pk) not in first


def test_reviewers_cannot_see_or_publish_a_release(client):
    call = make_call()
    make_submission(call, review_status=INCLUDED)
    client.force_login(make_reviewer(every_call=True))

    assert client.get(releases_url(call)).status_code == 403
    assert client.post(releases_url(call), publish_form(1)).status_code == 403
    assert not Release.objects.exists()


def test_the_call_list_links_each_release_page(client):
    call = make_call()
    client.force_login(make_call_manager())

    page = client.get(reverse("admin:submissions_call_changelist")).text

    assert f'<a href="{releases_url(call)}">Releases</a>' in page


def test_diff_counts_every_change_beyond_the_sample(client):
    call = make_call()
    for n in range(5):
        make_submission(call, review_status=INCLUDED, name=f"P{n}")

    changes = pending_changes(call, sample=2)

    assert (len(changes.added), changes.added_count) == (2, 5)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
def test_two_presses_at_once_publish_one_release_and_one_email_each(client):
    call = make_call()
    for n in range(3):
        make_submission(call, review_status=INCLUDED, email=f"p{n}@example.org")
    manager = make_call_manager()

    def press():
        return publish_release(call, number=1, by=manager)

    results = at_once(press, press)

    assert sorted(r is None for r in results) == [False, True]
    assert Release.objects.filter(call=call).count() == 1
    assert PublicContribution.objects.filter(call=call).count() == 3
    run_worker()
    assert sorted(m.to[0] for m in mail.outbox) == [f"p{n}@example.org" for n in range(3)]


def test_release_credits_are_the_latest_release_s_not_the_review_status():
    from submissions.publishing.releases import release_credits

    call = make_call()
    assert not release_credits(call)
    make_submission(call, review_status=INCLUDED, name="Bea", organisation="Org")
    make_submission(call, review_status=INCLUDED, name="Abe", organisation="Org")
    make_submission(call, review_status=INCLUDED, name="Abe", organisation="Org")
    make_submission(call, review_status=INCLUDED, credit_preference=Credit.NONE)
    publish(call)
    make_submission(call, review_status=INCLUDED, name="Not Yet", organisation="Org")

    credits = release_credits(call)

    assert [(c.line, len(c.public_ids)) for c in credits.lines] == [
        ("Abe, Org", 2),
        ("Bea, Org", 1),
    ]
    assert (credits.unnamed, credits.more) == (1, 0)
    assert credits.lines[1].public_ids == [Submission.objects.get(name="Bea").public.public_id]


def test_public_ids_are_made_in_the_order_of_the_files_and_a_clash_of_random_ids_tries_again(
    client, monkeypatch
):
    """New contributions get their public ids segment by segment as the release is written:
    in the files' order, after those released before; a random id already taken (one in
    31^12, but possible) makes the segment try again with new ones."""
    from submissions.models import new_public_ids
    from submissions.publishing import releases

    monkeypatch.setattr(releases, "SEGMENT_ROWS", 2)
    call = make_call(questions=1)
    first = [make_submission(call, review_status=INCLUDED, name=f"First {n}") for n in range(3)]
    publish(call)
    taken = public_id(first[0])
    later = [make_submission(call, review_status=INCLUDED, name=f"Later {n}") for n in range(3)]
    draws = []

    def clashing_once(count: int) -> list[str]:
        draws.append(count)
        fresh = new_public_ids(count)
        return [taken, *fresh[1:]] if len(draws) == 1 else fresh

    monkeypatch.setattr(releases, "new_public_ids", clashing_once)
    release = publish(call)

    assert release.added_count == 3
    assert draws == [1, 1, 2]  # the second segment (one old, one new) tried again; then two new
    rows = json_rows(client, call)
    assert [row["credit"].split(",")[0] for row in rows] == [
        *(f"First {n}" for n in range(3)),
        *(f"Later {n}" for n in range(3)),
    ]
    assert [row["first_release"] for row in rows] == [1, 1, 1, 2, 2, 2]
    assert len({row["public_id"] for row in rows}) == 6
    contributions = PublicContribution.objects.filter(submission__in=later).order_by("pk")
    assert [c.submission_id for c in contributions] == [s.pk for s in later]


def test_the_keys_the_database_does_not_check_are_still_kept_by_django():
    """A release's entries and contributions hold their release and call by keys the database
    does not check (migration 0029: 300,000 checks a release); Django's on_delete still keeps
    them: the call and a first release cannot go while contributions name them, and a release
    that goes takes its entries with it; and (migration 0030) an erased submission leaves its
    public contribution with no submission, taken off every release."""
    from django.db.models import ProtectedError

    from submissions.models import ReleaseEntry

    call = make_call(questions=1)
    make_submission(call, review_status=INCLUDED)
    first = publish(call)
    second = publish(call)

    with pytest.raises(ProtectedError):
        call.delete()
    with pytest.raises(ProtectedError):
        first.delete()
    second.delete()

    assert not ReleaseEntry.objects.filter(release_id=second.pk).exists()
    assert ReleaseEntry.objects.filter(release=first).count() == 1
    assert PublicContribution.objects.get().first_release == first

    Submission.objects.get().delete()

    contribution = PublicContribution.objects.get()
    assert contribution.submission_id is None
    assert not ReleaseEntry.objects.filter(contribution=contribution).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own indexes")
def test_a_public_id_is_unique_by_one_index():
    """A first release fills each index of the public contributions once per new contribution
    (300,000): the public id has its unique index, and not also Django's LIKE index, which
    nothing asks of it (migration 0031)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [PublicContribution._meta.db_table, "%(public_id%"],
        )
        indexes = [row[0] for row in cursor.fetchall()]

    assert len(indexes) == 1 and "UNIQUE" in indexes[0], indexes
    PublicContribution.objects.create(
        call=make_call(), public_id="abcdefghjkmn", first_release_id=1, submission=None
    )
    with pytest.raises(IntegrityError):
        PublicContribution.objects.create(
            call_id=PublicContribution.objects.get().call_id,
            public_id="abcdefghjkmn",
            first_release_id=1,
        )

"""Drafts are found by an unguessable token in the session; the final submit happens once."""

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client

from submissions.models import Submission

from ..contributor import url, walk_to
from ..factories import make_call
from ..races import at_once
from ..worker import run_worker

pytestmark = pytest.mark.django_db


def receipts(submission: Submission) -> list[str]:
    """The subjects of the emails the worker sent to the contributor."""
    run_worker()
    return [m.subject for m in mail.outbox if m.to == [submission.email]]


def receipt_subject(submission: Submission) -> str:
    return f"Your evidence to {submission.call.title}: reference {submission.reference}"


def test_the_draft_token_is_long_random_and_never_in_a_page(client, seeded_call):
    walk_to(client, seeded_call, "check")
    draft = Submission.objects.get()
    assert len(draft.token) >= 43
    for step in ["consent", "about", "evidence", "check"]:
        page = client.get(url(seeded_call, step)).content.decode()
        assert draft.token not in page
        assert f"/{draft.pk}/" not in page


def test_a_double_submit_makes_one_submission_and_the_same_confirmation(
    client, seeded_call, django_capture_on_commit_callbacks
):
    walk_to(client, seeded_call, "check")
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url(seeded_call, "check"))
        second = client.post(url(seeded_call, "check"))
    assert first.url == second.url == url(seeded_call, "confirmation")
    submission = Submission.objects.get()
    again = client.get(url(seeded_call, "confirmation")).content.decode()
    assert submission.reference in again
    assert receipts(submission) == [receipt_subject(submission)]


def test_a_submit_that_finds_the_draft_already_submitted_changes_nothing(
    client, seeded_call, django_capture_on_commit_callbacks
):
    # Two requests that both passed the step's check before either submitted, each holding the
    # draft as it was then: the second must find it submitted, under the lock, and stop.
    walk_to(client, seeded_call, "check")
    first_request, second_request = Submission.objects.get(), Submission.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert first_request.submit() is True
        submitted = Submission.objects.get()
        assert second_request.submit() is False

    after = Submission.objects.get()
    assert after.reference == submitted.reference
    assert after.submitted_at == submitted.submitted_at
    assert receipts(submitted) == [receipt_subject(submitted)]


def test_a_refreshed_confirmation_keeps_the_reference(client, seeded_call):
    walk_to(client, seeded_call, "check")
    client.post(url(seeded_call, "check"))
    reference = Submission.objects.get().reference
    for _ in range(2):
        assert reference in client.get(url(seeded_call, "confirmation")).content.decode()


def test_after_submitting_the_steps_lead_to_the_confirmation(client, seeded_call):
    walk_to(client, seeded_call, "check")
    client.post(url(seeded_call, "check"))
    about = {"name": "Changed", "email": "x@example.org"}
    assert client.post(url(seeded_call, "about"), about).url == url(seeded_call, "confirmation")
    assert Submission.objects.get().name == "Jane Smith"


def test_a_new_submission_can_follow_a_finished_one(client, seeded_call):
    walk_to(client, seeded_call, "check")
    client.post(url(seeded_call, "check"))
    walk_to(client, seeded_call, "check")
    client.post(url(seeded_call, "check"))
    references = set(Submission.objects.values_list("reference", flat=True))
    assert len(references) == 2 and None not in references


def test_a_forged_token_in_the_session_starts_afresh(client, seeded_call):
    other = Client()
    walk_to(other, seeded_call, "check")
    session = client.session
    session["drafts"] = {seeded_call.slug: "forged-token"}
    session.save()
    response = client.get(url(seeded_call, "about"))
    assert response.url == url(seeded_call, "start")
    assert client.session["drafts"] == {}
    assert "Jane Smith" not in client.get(url(seeded_call, "consent")).content.decode()


def test_a_tampered_session_cookie_never_shows_someone_elses_draft(client, seeded_call):
    walk_to(client, seeded_call, "check")
    stranger = Client()
    key = client.session.session_key
    tampered = key[:-1] + ("y" if key[-1] == "x" else "x")
    stranger.cookies[settings.SESSION_COOKIE_NAME] = tampered
    response = stranger.get(url(seeded_call, "check"))
    assert response.url == url(seeded_call, "start")


def test_a_draft_of_one_call_is_not_used_for_another(client, seeded_call):
    walk_to(client, seeded_call, "check")
    other_call = make_call()
    session = client.session
    session["drafts"] = {other_call.slug: Submission.objects.get().token}
    session.save()
    assert client.get(url(other_call, "about")).url == url(other_call, "start")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_simultaneous_submits_make_exactly_one_submission():
    call = make_call()
    client = Client()
    walk_to(client, call, "check")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value

    def submit():
        twin = Client()
        twin.cookies[settings.SESSION_COOKIE_NAME] = cookie
        return twin.post(url(call, "check")).status_code

    statuses = at_once(submit, submit, submit, submit)
    assert statuses == [302] * 4
    submission = Submission.objects.get()
    assert submission.is_submitted and submission.reference
    # Without the lock each submit that read the draft before the first committed would
    # submit it again, with a new reference and a receipt of its own.
    assert receipts(submission) == [receipt_subject(submission)]

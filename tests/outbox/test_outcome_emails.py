"""Everyone told, through the outbox: the toolkit is published (to each contributor in it), a
thank-you (to every other contributor, if the call says so), a withdrawal request (to the staff
named on the call) and an erasure (to the contributor, after their submission is gone)."""

import pytest
from django.core import mail

from submissions.models import OutgoingEmail, Submission
from submissions.outbox import queue as outbox

from ..factories import make_call, make_submission
from ..worker import run_worker

pytestmark = pytest.mark.django_db
Kind = OutgoingEmail.Kind
INCLUDED = Submission.ReviewStatus.INCLUDED
TOOLKIT = "https://toolkit.example/social-media"


def sent(kind: str) -> list:
    """Run the worker, then the messages of this kind that went out."""
    run_worker()
    subjects = {
        Kind.TOOLKIT_PUBLISHED: "is published",
        Kind.THANK_YOU: "Thank you for your evidence",
        Kind.WITHDRAWAL_REQUESTED: "Withdrawal requested",
        Kind.ERASED: "has been erased",
    }
    return [m for m in mail.outbox if subjects[kind] in m.subject]


def assert_readable_on_any_device(message, organisation: str = "NCCPE") -> str:
    """A text part and an HTML part, each naming the organisation; the HTML fits a phone."""
    (html, mimetype) = message.alternatives[0]
    assert mimetype == "text/html"
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert organisation in message.body and organisation in html
    return html


@pytest.fixture
def call_after_the_event():
    call = make_call(title="What Works: Social Media", notification_emails="team@example.org")
    people = {
        "ana": make_submission(
            call,
            name="Ana Jones",
            organisation="UWE",
            email="ana@example.org",
            review_status=INCLUDED,
        ),
        # Ana again, with another address case: one person, one email listing both.
        "ana2": make_submission(
            call,
            name="Ana Jones",
            organisation="UWE Bristol",
            email="ANA@example.org",
            review_status=INCLUDED,
        ),
        "bo": make_submission(
            call,
            email="bo@example.org",
            review_status=INCLUDED,
            credit_preference=Submission.Credit.NONE,
        ),
        "cy": make_submission(call, email="cy@example.org"),  # new: thanked
        "dee": make_submission(
            call, email="dee@example.org", review_status=Submission.ReviewStatus.SHORTLISTED
        ),
        "eli": make_submission(call, email="eli@example.org", review_status=INCLUDED),
        "fi": make_submission(call, email="fi@example.org", state=Submission.State.DRAFT),
        # Ana's third contribution, not included: she hears once, of the toolkit.
        "ana3": make_submission(call, email="ana@example.org"),
    }
    people["eli"].request_withdrawal()
    make_submission(make_call(), email="other-call@example.org", review_status=INCLUDED)
    run_worker()  # the staff's notice of Eli's withdrawal
    mail.outbox.clear()
    return call, people


def test_each_contributor_in_the_toolkit_gets_one_email_with_the_link_and_their_credit(
    call_after_the_event,
):
    call, people = call_after_the_event
    mail.outbox.clear()

    assert call.mark_toolkit_published(TOOLKIT, thank_others=False, by="Bob")

    messages = sent(Kind.TOOLKIT_PUBLISHED)
    assert sorted(m.to[0] for m in messages) == ["ana@example.org", "bo@example.org"]
    ana = next(m for m in messages if m.to == ["ana@example.org"])
    html = assert_readable_on_any_device(ana)
    assert ana.subject == (
        "The toolkit of What Works: Social Media is published, with your evidence in it"
    )
    for body in (ana.body, html):
        assert TOOLKIT in body
        assert people["ana"].reference in body and people["ana2"].reference in body
        assert people["ana3"].reference not in body
        assert f"/{call.slug}/outcome/" in body
    # Each credit line exactly as the credits page shows it.
    assert "> Ana Jones, UWE\n" in ana.body and "> Ana Jones, UWE Bristol\n" in ana.body
    assert "<blockquote" in html and ">Ana Jones, UWE Bristol</blockquote>" in html
    bo = next(m for m in messages if m.to == ["bo@example.org"])
    assert "you asked not to be named" in bo.body
    # Nobody else heard: no thank-yous were chosen.
    assert sent(Kind.THANK_YOU) == []
    assert {m.to[0] for m in mail.outbox} == {"ana@example.org", "bo@example.org"}


def test_every_other_contributor_is_thanked_once_when_the_call_says_so(call_after_the_event):
    call, people = call_after_the_event
    mail.outbox.clear()

    call.mark_toolkit_published(TOOLKIT, thank_others=True, by="Bob")

    thanks = sent(Kind.THANK_YOU)
    # Cy (new) and Dee (shortlisted); not Ana (in the toolkit), Eli (withdrew) or Fi (a draft).
    assert sorted(m.to[0] for m in thanks) == ["cy@example.org", "dee@example.org"]
    cy = next(m for m in thanks if m.to == ["cy@example.org"])
    html = assert_readable_on_any_device(cy)
    for body in (cy.body, html):
        assert f"/{call.slug}/outcome/" in body
        assert people["cy"].reference in body
        assert TOOLKIT in body
    assert call.__class__.objects.get(pk=call.pk).outcome_is_published


def test_pressing_the_button_again_emails_nobody_again(call_after_the_event):
    call, _ = call_after_the_event

    told = OutgoingEmail.objects.filter(kind__in=[Kind.TOOLKIT_PUBLISHED, Kind.THANK_YOU])

    assert call.mark_toolkit_published(TOOLKIT, thank_others=True, by="Bob")
    first = told.count()
    again = call.__class__.objects.get(pk=call.pk)
    assert not again.mark_toolkit_published(TOOLKIT + "/v2", thank_others=True, by="Carol")

    assert told.count() == first == 4  # Ana and Bo in the toolkit; Cy and Dee thanked
    call.refresh_from_db()
    assert call.toolkit_url == TOOLKIT and call.toolkit_published_by == "Bob"


def test_an_email_whose_contributions_were_withdrawn_meanwhile_is_not_sent(call_after_the_event):
    call, people = call_after_the_event
    call.mark_toolkit_published(TOOLKIT, thank_others=False, by="Bob")
    people["bo"].request_withdrawal()
    mail.outbox.clear()

    run_worker()

    email = OutgoingEmail.objects.get(kind=Kind.TOOLKIT_PUBLISHED, to="bo@example.org")
    assert email.state == OutgoingEmail.State.CANCELLED
    assert "bo@example.org" not in [m.to[0] for m in mail.outbox]


def test_staff_named_on_the_call_hear_of_a_withdrawal_request_once(call_after_the_event):
    _, people = call_after_the_event
    mail.outbox.clear()
    cy = people["cy"]

    assert cy.request_withdrawal()
    assert not Submission.objects.get(pk=cy.pk).request_withdrawal()

    (notice,) = sent(Kind.WITHDRAWAL_REQUESTED)
    assert notice.to == ["team@example.org"]
    assert notice.subject == f"Withdrawal requested: {cy.reference} to What Works: Social Media"
    html = assert_readable_on_any_device(notice)
    for body in (notice.body, html):
        assert f"/admin/submissions/submission/{cy.pk}/change/" in body
        assert "UK time" in body
        assert cy.email not in body and cy.name not in body
    assert OutgoingEmail.objects.filter(kind=Kind.WITHDRAWAL_REQUESTED).count() == 2  # Eli, Cy


def test_a_call_with_no_staff_addresses_sends_no_withdrawal_notice():
    call = make_call(notification_emails="")
    make_submission(call).request_withdrawal()

    assert not OutgoingEmail.objects.filter(kind=Kind.WITHDRAWAL_REQUESTED).exists()


def test_the_contributor_is_told_of_the_erasure_by_an_email_that_outlives_the_submission():
    call = make_call(title="What Works: Social Media")
    submission = make_submission(
        call, name="Ana Jones", organisation="UWE", email="ana@example.org", role="Lecturer"
    )
    reference = submission.reference
    outbox.queue(Kind.RECEIPT, [submission.email], call, submission)  # still pending
    mail.outbox.clear()

    assert submission.erase()
    assert not Submission.objects.filter(pk=submission.pk).exists()
    assert not Submission(pk=submission.pk).erase()  # a second press: nothing to erase

    # What is kept until it is sent: the address and the reference, nothing else of them.
    (email,) = OutgoingEmail.objects.all()
    assert email.kind == Kind.ERASED and email.submission is None
    assert email.to == "ana@example.org" and email.params == {"reference": reference}
    (message,) = sent(Kind.ERASED)
    assert message.to == ["ana@example.org"]
    assert message.subject == "Your evidence to What Works: Social Media has been erased"
    html = assert_readable_on_any_device(message)
    for body in (message.body, html):
        assert reference in body
        for personal in ["Ana", "UWE", "Lecturer"]:
            assert personal not in body
    # Once sent, the address goes too.
    email.refresh_from_db()
    assert email.state == OutgoingEmail.State.SENT and email.to == ""
    assert not any(
        m.subject.startswith("Your evidence to") and "reference" in m.subject for m in mail.outbox
    )


def test_erasing_a_draft_tells_nobody():
    call = make_call()
    draft = make_submission(call, state=Submission.State.DRAFT, email="kim@example.org")

    assert draft.erase()

    assert not OutgoingEmail.objects.exists()


def test_erasing_a_submission_erases_its_pending_toolkit_email(call_after_the_event):
    call, people = call_after_the_event
    call.mark_toolkit_published(TOOLKIT, thank_others=False, by="Bob")

    people["bo"].erase()

    kinds = OutgoingEmail.objects.filter(to="bo@example.org").values_list("kind", flat=True)
    assert list(kinds) == [Kind.ERASED]

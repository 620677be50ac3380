"""The receipt: everything the contributor sent, set apart from the service's words."""

import pytest
from django.core import mail

from submissions.models import OutgoingEmail, Submission
from submissions.outbox import queue as outbox

from ..factories import make_attachment, make_call, make_submission
from ..worker import run_worker

pytestmark = pytest.mark.django_db
PHISH = "Alice\nYour account is suspended. Log in at http://evil.example"


def send_receipt(submission: Submission):
    mail.outbox.clear()
    outbox.queue(OutgoingEmail.Kind.RECEIPT, [submission.email], submission.call, submission)
    run_worker()
    (receipt,) = mail.outbox
    return receipt


def test_the_receipt_holds_everything_the_contributor_needs(seeded_call):
    questions = list(seeded_call.questions.all())
    submission = make_submission(
        seeded_call,
        name="Siân Jones",
        organisation="Cardiff University",
        email="sian@example.ac.uk",
        orcid="0000-0002-1825-0097",
        website="https://example.ac.uk/sian",
        answers={str(questions[0].pk): "We ran a Twitter chat.\nIt worked well."},
        links=["https://example.org/report"],
        is_late=True,
    )
    make_attachment(submission, original_name="findings.pdf", size=2_500_000)
    receipt = send_receipt(submission)
    text = receipt.body
    (html, mimetype) = receipt.alternatives[0]
    assert mimetype == "text/html"
    for body in (text, html):
        assert submission.reference in body
        assert "UK time" in body
        assert "marked as late" in body
        assert "We ran a Twitter chat." in body
        assert questions[0].text in body
        assert "https://example.org/report" in body
        assert "findings.pdf" in body
        assert "2.4 MB" in body
        assert "Siân Jones, Cardiff University" in body
        assert "https://creativecommons.org/licenses/by-nc/4.0/" in body
        assert "CC-BY-NC-4.0" in body
        assert seeded_call.contact_email in body
        assert "What happens next" in body or "WHAT HAPPENS NEXT" in body
    # Typed text is quoted line by line in the plain text, and in blockquotes in HTML.
    assert "> We ran a Twitter chat.\n> It worked well." in text
    assert "> Siân Jones, Cardiff University" in text
    assert "<blockquote>We ran a Twitter chat.<br>It worked well.</blockquote>" in html
    # Every unanswered question is listed too.
    assert text.count("(not answered)") == len(questions) - 1


def test_nothing_the_contributor_typed_is_in_a_header(settings):
    call = make_call(title="Call with a\r\nbroken title")
    submission = make_submission(
        call, name=PHISH, organisation=PHISH, role=PHISH, email="alice@example.org"
    )
    receipt = send_receipt(submission)
    message = receipt.message()
    headers = "\n".join(f"{k}: {v}" for k, v in message.items())
    assert "Alice" not in headers
    assert "evil" not in headers
    assert message["To"] == "alice@example.org"
    assert message["Subject"] == (
        f"Your evidence to Call with a broken title: reference {submission.reference}"
    )
    # In the body, the typed text never starts a line of its own: each line is quoted.
    for line in receipt.body.splitlines():
        if "evil.example" in line or line.endswith("Alice"):
            assert line.startswith("> "), line
    html = receipt.alternatives[0][0]
    assert "<blockquote>Alice\nYour account is suspended." in html


def test_markup_typed_by_the_contributor_is_escaped_in_the_html(seeded_call):
    submission = make_submission(seeded_call, name='<a href="http://evil.example">Click</a>')
    html = send_receipt(submission).alternatives[0][0]
    assert '<a href="http://evil.example">' not in html
    assert "&lt;a href=&quot;http://evil.example&quot;&gt;" in html


def test_a_contributor_who_asked_not_to_be_credited_is_told_so(seeded_call):
    submission = make_submission(seeded_call, credit_preference=Submission.Credit.NONE)
    receipt = send_receipt(submission)
    assert "You asked not to be credited publicly" in receipt.body


def test_the_html_receipt_fits_a_phone_and_names_who_sent_it(seeded_call):
    receipt = send_receipt(make_submission(seeded_call))
    (html, _mimetype) = receipt.alternatives[0]

    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "max-width:600px" in html  # one column, as the other emails (email/_base.html)
    assert ">NCCPE</p>" in html and "What Works: Social Media" in html
    assert receipt.body.startswith("NCCPE: What Works: Social Media\n")


def test_what_happens_next_is_said_once(seeded_call):
    receipt = send_receipt(make_submission(seeded_call))
    (html, _mimetype) = receipt.alternatives[0]

    for body in (receipt.body, html):
        # The call's own timeline, which already says all three things once.
        assert body.count("we read every contribution") == 1
        assert "We read every submission" not in body
        assert "We plan to synthesise" not in body


def test_a_call_without_a_timeline_says_what_happens_next_in_general_words(seeded_call):
    seeded_call.next_steps = ""
    seeded_call.save()

    receipt = send_receipt(make_submission(seeded_call))

    assert receipt.body.count("We read every submission") == 1
    assert receipt.body.count("We plan to synthesise") == 1


def test_the_receipt_says_what_the_status_link_does_and_who_can_use_it(seeded_call):
    receipt = send_receipt(make_submission(seeded_call))
    (html, _mimetype) = receipt.alternatives[0]

    for body in (receipt.body, html):
        assert "correct how you are credited" in body
        assert "ask for it to be withdrawn" in body
        assert "anyone who has it can do the same" in body
        assert "To change or withdraw your evidence" not in body
        assert "To change your evidence itself" in body

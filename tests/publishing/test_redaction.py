"""Redaction with reasons: a call manager redacts before a contribution is first released; the
redacted words appear in no public page, file or feed; staff still see the original; every
redaction is in the submission's history with who and why."""

import json

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from submissions.models import Redaction, ReviewChange, Submission
from submissions.publishing.redaction import redact
from tests.factories import make_call, make_call_manager, make_reviewer, make_submission
from tests.publishing.helpers import INCLUDED, body, json_rows, page_url, public_id, publish
from tests.worker import run_worker

pytestmark = pytest.mark.django_db

SECRET = "John Smith"


def redactions_url(submission) -> str:
    return reverse("admin:submissions_submission_redactions", args=[submission.pk])


@pytest.fixture
def submission():
    call = make_call(questions=2)
    q1, q2 = call.questions.all()
    return make_submission(
        call,
        review_status=INCLUDED,
        name="Ada Lovelace",
        answers={
            str(q1.pk): f"My colleague {SECRET} ran it; john smith agreed.",
            str(q2.pk): "An aside about something else.",
        },
        links=["https://example.org/john-smith-profile", "https://example.org/ok"],
    )


def part(submission, number: int) -> str:
    return Redaction.answer_part(submission.call.questions.get(position=number))


def everything_public(client, call, submission) -> str:
    paths = [
        reverse("credits", args=[call.slug]),
        page_url(call, submission),
        reverse("citation", args=[call.slug, public_id(submission), "bib"]),
        reverse("citation", args=[call.slug, public_id(submission), "json"]),
        reverse("open_data", args=[call.slug]),
        reverse("releases_feed", args=[call.slug]),
        reverse("release_page", args=[call.slug, 1]),
    ]
    for name in ("contributions.csv", "contributions.json", "datapackage.json"):
        paths += [
            reverse("open_data_file", args=[call.slug, name]),
            reverse("release_file", args=[call.slug, 1, name]),
        ]
    texts = []
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        texts.append(body(response).decode())
    return "\n".join(texts)


def test_a_call_manager_redacts_a_name_with_a_reason_and_it_is_in_the_history(client, submission):
    client.force_login(make_call_manager(first_name="Bob", last_name="Manager"))

    response = client.post(
        redactions_url(submission),
        {"part": part(submission, 1), "text": SECRET, "reason": "third_party", "note": ""},
    )

    assert response.status_code == 302
    redaction = Redaction.objects.get(submission=submission)
    assert (redaction.text, redaction.reason, redaction.created_by_name) == (
        SECRET,
        "third_party",
        "Bob Manager",
    )
    change = ReviewChange.objects.get(submission=submission, field="redaction")
    assert change.changed_by_name == "Bob Manager"
    assert change.new_value == f"Answer to question 1, “{SECRET}”: Personal data of a third party"
    page = client.get(redactions_url(submission)).text
    assert (
        "My colleague [redacted: personal data] ran it; [redacted: personal data] agreed." in page
    )
    # Staff still read the original on the submission's page, with the history.
    change_page = client.get(
        reverse("admin:submissions_submission_change", args=[submission.pk])
    ).text
    assert f"My colleague {SECRET} ran it" in change_page
    assert "Personal data of a third party" in change_page
    assert "1 redaction." in change_page


def test_a_redacted_span_appears_in_no_public_page_file_feed_or_email(client, submission):
    call = submission.call
    Redaction.add(submission, part=part(submission, 1), text=SECRET, reason="third_party")
    Redaction.add(submission, part=Redaction.link_part(0), text="", reason="contributor")
    publish(call)
    run_worker()

    public = everything_public(client, call, submission)

    assert "john smith" not in public.casefold() and "john-smith" not in public
    assert "My colleague [redacted: personal data] ran it" in public
    (email,) = mail.outbox
    assert "john smith" not in email.body.casefold()
    rows = json_rows(client, call)
    assert rows[0]["question_1"] == (
        "My colleague [redacted: personal data] ran it; [redacted: personal data] agreed."
    )
    assert rows[0]["links"] == ["[redacted: personal data]", "https://example.org/ok"]
    page = client.get(page_url(call, submission)).text
    assert "<li>[redacted: personal data]</li>" in page  # a redacted link is no link
    assert 'href="https://example.org/ok"' in page


def test_a_whole_answer_can_be_redacted_and_the_reason_shows(client, submission):
    Redaction.add(submission, part=part(submission, 2), text="", reason="off_topic")
    publish(submission.call)

    rows = json_rows(client, submission.call)

    assert rows[0]["question_2"] == "[redacted: off-topic]"


def test_the_words_must_be_in_that_answer_and_other_needs_a_note(client, submission):
    client.force_login(make_call_manager())

    missing = client.post(
        redactions_url(submission),
        {"part": part(submission, 1), "text": "Jane Doe", "reason": "third_party"},
    )
    unexplained = client.post(
        redactions_url(submission),
        {"part": part(submission, 1), "text": SECRET, "reason": "other", "note": ""},
    )

    assert "These words are not in that answer or link: copy them exactly." in missing.text
    assert "Say why in the note" in unexplained.text
    assert not Redaction.objects.exists()


def test_a_released_contribution_cannot_be_redacted_until_withheld(client, submission):
    publish(submission.call)
    client.force_login(make_call_manager())

    page = client.get(redactions_url(submission))
    response = client.post(
        redactions_url(submission),
        {"part": part(submission, 1), "text": SECRET, "reason": "third_party"},
    )

    assert "This contribution is in a published release" in page.text
    assert response.status_code == 200
    assert not Redaction.objects.exists()
    assert Redaction.add(submission, part=part(submission, 1), text=SECRET, reason="other") is None

    # Withheld: it leaves every release; redacted; then back in the next release.
    Submission.objects.filter(pk=submission.pk).update(withheld_from_open_data=True)
    from submissions.publishing.releases import take_down

    take_down(submission)
    assert Redaction.add(submission, part=part(submission, 1), text=SECRET, reason="third_party")
    Submission.objects.filter(pk=submission.pk).update(withheld_from_open_data=False)
    publish(submission.call)
    assert SECRET not in client.get(page_url(submission.call, submission)).text
    assert SECRET not in json.dumps(json_rows(client, submission.call, 1))


def test_a_redaction_can_be_removed_before_release_and_that_is_in_the_history(client, submission):
    redaction = Redaction.add(
        submission, part=part(submission, 1), text=SECRET, reason="other", note="x"
    )
    client.force_login(make_call_manager())

    client.post(
        reverse("admin:submissions_submission_remove_redaction", args=[submission.pk, redaction.pk])
    )

    assert not Redaction.objects.exists()
    removed = ReviewChange.objects.get(submission=submission, new_value="Removed")
    assert removed.old_value == f"Answer to question 1, “{SECRET}”: Other (x)"


def test_reviewers_cannot_redact(client, submission):
    client.force_login(make_reviewer(every_call=True))

    assert client.get(redactions_url(submission)).status_code == 403
    response = client.post(
        redactions_url(submission),
        {"part": part(submission, 1), "text": SECRET, "reason": "third_party"},
    )
    assert response.status_code == 403
    assert not Redaction.objects.exists()


def test_the_credit_line_is_not_among_what_can_be_redacted(client, submission):
    client.force_login(make_call_manager())

    page = client.get(redactions_url(submission)).text

    assert "Answer to question 1" in page and "Link 1" in page
    assert "Ada Lovelace" not in page.split('name="part"')[1].split("</select>")[0]


@pytest.mark.parametrize(
    ("text", "words", "expected"),
    [
        ("a John b john c", ["john"], "a [x] b [x] c"),
        ("overlap here", ["overlap he", "lap here"], "[x]"),
        ("nothing", ["absent"], "nothing"),
    ],
)
def test_redact_replaces_every_occurrence_ignoring_case_and_merges_overlaps(text, words, expected):
    redactions = [Redaction(text=w, reason="other") for w in words]

    assert redact(text, redactions).replace("[redacted]", "[x]") == expected


def test_another_client_without_login_sees_no_redaction_page(submission):
    response = Client().get(redactions_url(submission))
    assert response.status_code == 302  # to the sign-in page

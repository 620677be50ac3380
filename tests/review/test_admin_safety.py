"""Everything a contributor wrote is shown as text in the admin, never as markup."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.urls import reverse

from submissions.models import Submission
from tests.factories import make_attachment, make_call, make_call_manager, make_submission

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("xss")</script>'
ESCAPED = "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;"


@pytest.fixture
def hostile(client) -> Submission:
    """A submission with a script in every field a contributor fills in."""
    client.force_login(make_call_manager())
    call = make_call(questions=2)
    submission = make_submission(
        call,
        name=f"Name {SCRIPT}",
        email=f"email{SCRIPT}@example.org",
        role=f"Role {SCRIPT}",
        organisation=f"Organisation {SCRIPT}",
        orcid="<i>0000</i>",  # the field holds 19 characters
        website=f'https://example.org/"{SCRIPT}',
        credit_preference=Submission.Credit.NAME_AND_ORGANISATION,
        answers={str(q.pk): f"Answer {q.position}\n{SCRIPT}" for q in call.questions.all()},
        links=[SCRIPT, f'https://example.org/"{SCRIPT}', f"javascript:{SCRIPT}"],
    )
    make_attachment(submission, original_name=f"file{SCRIPT}.pdf", content_type=SCRIPT)
    return submission


def assert_escaped(response, at_least: int) -> None:
    assert response.status_code == 200
    assert "<script>alert" not in response.text
    assert 'href="javascript:' not in response.text
    assert response.text.count(ESCAPED) >= at_least


def test_the_list_shows_contributor_text_as_text(client, hostile):
    response = client.get(reverse("admin:submissions_submission_changelist"))

    assert_escaped(response, at_least=2)  # name and organisation


def test_search_results_show_contributor_text_as_text(client, hostile):
    response = client.get(reverse("admin:submissions_submission_changelist"), {"q": "Name"})

    assert [s.pk for s in response.context["cl"].result_list] == [hostile.pk]
    assert_escaped(response, at_least=2)


def test_the_submission_page_shows_every_field_as_text(client, hostile):
    response = client.get(reverse("admin:submissions_submission_change", args=[hostile.pk]))

    # Two answers, three links, name, email (twice: text and mailto), role, organisation,
    # website (twice), credit line, file name, file type.
    assert_escaped(response, at_least=15)
    assert "&lt;i&gt;0000&lt;/i&gt;" in response.text
    assert f'href="https://example.org/&quot;{ESCAPED}"' in response.text
    assert "Answer 1<br>" + ESCAPED in response.text


def test_the_delete_page_lists_the_files_as_text(client, hostile):
    response = client.get(reverse("admin:submissions_submission_delete", args=[hostile.pk]))

    assert_escaped(response, at_least=1)


def test_the_object_history_page_shows_no_contributor_markup(client, hostile):
    # The page lists the admin's log entries; one whose message quotes the contributor's words
    # (as a note logged about this submission would) puts them on the page.
    bob = User.objects.get(username="bob")  # the call manager the fixture logged in
    LogEntry.objects.log_actions(
        bob.pk, [hostile], CHANGE, change_message=f"Read the evidence of {hostile.name}"
    )

    response = client.get(reverse("admin:submissions_submission_history", args=[hostile.pk]))

    assert f"Read the evidence of Name {ESCAPED}" in response.text
    assert_escaped(response, at_least=1)

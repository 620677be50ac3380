"""The submission page: the evidence to read, the review fields to change, and nothing else."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from submissions.models import Submission, Theme
from tests.factories import (
    make_attachment,
    make_call,
    make_reviewer,
    make_submission,
    make_superuser,
    make_user_without_staff_status,
)

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")


def page_url(submission: Submission) -> str:
    return reverse("admin:submissions_submission_change", args=[submission.pk])


@pytest.fixture
def reviewer(client):
    user = make_reviewer(every_call=True)
    client.force_login(user)
    return user


@pytest.fixture
def submission() -> Submission:
    call = make_call(questions=2)
    first, second = call.questions.all()
    return make_submission(
        call,
        name="Ada Lovelace",
        email="ada@example.org",
        role="Research fellow",
        organisation="Analytical Society",
        orcid="0000-0002-1825-0097",
        website="https://example.org/ada",
        credit_preference=Submission.Credit.NAME_AND_ORGANISATION,
        answers={
            str(first.pk): "We ran a Twitter chat.\nIt reached 10,000 people.",
            str(second.pk): "",
        },
        links=["https://example.org/report", "javascript:alert(1)"],
        consent_licence_id="CC-BY-NC-4.0",
        consent_licence_version="4.0",
        consent_wording_version="1",
        # 09:15 UTC in July is 10:15 UK time.
        consent_given_at=datetime(2018, 7, 2, 9, 15, 30, tzinfo=UTC),
        submitted_at=datetime(2018, 7, 2, 9, 20, tzinfo=UTC),
    )


def test_it_shows_each_question_with_its_answer_and_keeps_line_breaks(client, reviewer, submission):
    response = client.get(page_url(submission))

    for question in submission.call.questions.all():
        assert f"{question.position}. {question.text}" in response.text
    assert "<p>We ran a Twitter chat.<br>It reached 10,000 people.</p>" in response.text
    assert "No answer." in response.text


def test_it_links_web_addresses_without_passing_on_the_admin_page(client, reviewer, submission):
    response = client.get(page_url(submission))

    assert (
        '<a href="https://example.org/report" rel="noopener noreferrer" target="_blank">'
        "https://example.org/report</a>"
    ) in response.text
    assert 'href="javascript:' not in response.text
    assert "javascript:alert(1) <span" in response.text  # shown, as text


def test_it_lists_the_files_with_name_size_and_download_link(client, reviewer, submission):
    attachment = make_attachment(submission, original_name="evaluation.pdf", size=2_500_000)

    response = client.get(page_url(submission))

    download = reverse("attachment_download", args=[attachment.pk])
    assert f'<a href="{download}">evaluation.pdf</a>' in response.text
    assert "(2.4 MB, " in response.text


def test_it_shows_the_credit_details_and_the_credit_line(client, reviewer, submission):
    response = client.get(page_url(submission))

    for detail in ["Ada Lovelace", "ada@example.org", "Research fellow", "0000-0002-1825-0097"]:
        assert detail in response.text
    assert "My name and organisation" in response.text
    assert '<q class="credit-line">Ada Lovelace, Analytical Society</q>' in response.text


def test_it_shows_the_consent_record_in_uk_time(client, reviewer, submission):
    response = client.get(page_url(submission))

    assert "CC-BY-NC-4.0 (version 4.0)" in response.text
    assert "(the call's current wording)" in response.text
    assert submission.call.consent_hash in response.text
    assert "Monday 2 July 2018, 10:15:30" in response.text


def test_it_says_when_the_calls_consent_wording_has_changed_since(client, reviewer, submission):
    Submission.objects.filter(pk=submission.pk).update(consent_wording_sha256="0" * 64)

    response = client.get(page_url(submission))

    assert "(the call's wording has changed since)" in response.text


def test_no_contributor_content_is_a_form_field(client, reviewer, submission):
    response = client.get(page_url(submission))

    fields = set(response.context["adminform"].form.fields)
    assert fields == {"review_status", "themes", "assigned_reviewer", "reviewer_notes"}
    for name in ["name", "email", "organisation", "answers", "links", "website", "orcid"]:
        assert f'name="{name}"' not in response.text


def test_the_review_fields_are_editable(client, reviewer, submission):
    Theme.objects.create(name="Podcasts")

    response = client.get(page_url(submission))

    # Radios: one click for a status, where a drop-down takes two.
    assert 'type="radio" name="review_status" value="included"' in response.text
    assert "Included in toolkit" in response.text
    assert 'type="checkbox" name="themes"' in response.text
    assert '<select name="assigned_reviewer"' in response.text
    assert '<textarea name="reviewer_notes"' in response.text


def test_it_offers_only_active_staff_as_assigned_reviewers(client, reviewer, submission):
    make_user_without_staff_status()

    response = client.get(page_url(submission))

    choices = response.context["adminform"].form.fields["assigned_reviewer"].queryset
    assert list(choices) == [reviewer]


def test_the_page_makes_a_fixed_number_of_queries(
    client, reviewer, submission, django_assert_num_queries
):
    for _ in range(3):
        make_attachment(submission)
    Theme.objects.bulk_create([Theme(name=f"Theme {i}") for i in range(5)])

    # Django caches content types per process: read once here, so the count below does not
    # depend on which test ran first.
    ContentType.objects.get_for_model(Submission)

    # 12, and its publication (its public id with the releases showing it, its redactions), and
    # its place in the list (the first ids, and the calls the list's columns depend on).
    with django_assert_num_queries(16):
        client.get(page_url(submission))


def test_a_withdrawal_request_is_a_banner_above_everything_else(client, reviewer, submission):
    assert 'id="withdrawal-request"' not in client.get(page_url(submission)).text
    submission.request_withdrawal(at=datetime(2018, 7, 3, 8, 5, tzinfo=UTC))

    page = client.get(page_url(submission)).text

    banner = page.index('id="withdrawal-request"')
    assert "Withdrawal requested on 3 July 2018, 09:05 (UK time)" in page
    assert banner < page.index('name="review_status"') < page.index("Evidence</h2>")
    assert "Erase it now" not in page  # a reviewer may not delete


def test_the_withhold_field_sits_under_a_heading_that_says_publication(client, submission):
    client.force_login(make_superuser())
    page = client.get(page_url(submission)).text
    assert "Assignment and publication</h2>" in page
    assert "Withhold from publication" in page
    assert "open data</h2>" not in page

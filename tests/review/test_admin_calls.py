"""Calls in the admin: what a call needs before it is published, its own headings, a preview."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from submissions.models import Call
from tests.factories import assign, make_call, make_call_manager, make_reviewer

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
ADD_URL = reverse("admin:submissions_call_add")


def call_post(**changes) -> dict:
    """The admin's "Add call" form as a call manager fills it in, with one question."""
    data = {
        "title": "What Works: Podcasts",
        "slug": "what-works-podcasts",
        "published": "on",
        "summary_heading": "Why we are asking",
        "summary": "Podcasts reach people who never read a paper.",
        "asks": "",
        "opens_at_0": "2030-01-01",
        "opens_at_1": "09:00",
        "closes_at_0": "2030-03-06",
        "closes_at_1": "23:59",
        "late_policy": "refuse",
        "draft_retention_days": "30",
        "licence_id": "CC-BY-NC-4.0",
        "licence_name": "Creative Commons Attribution-NonCommercial 4.0 International",
        "licence_version": "4.0",
        "licence_url": "https://creativecommons.org/licenses/by-nc/4.0/",
        "licence_summary": "People may share and adapt it, not commercially.",
        "consent_wording": "Are you happy to share your evidence under CC BY-NC 4.0?",
        "consent_version": "1",
        "credit_promise": "We credit everyone whose work is included.",
        "next_steps": "",
        "privacy_notice": "We use your details only to credit you.",
        "contact_email": "podcasts@example.org",
        "notification_emails": "",
        "notification_mode": "each",
        "max_files": "5",
        "max_file_size_mb": "10.0",
        "questions-TOTAL_FORMS": "1",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
        "questions-0-position": "1",
        "questions-0-short_title": "Practice",
        "questions-0-text": "What works?",
        "questions-0-help_text": "",
        "questions-0-max_length": "5000",
        "reviewer_assignments-TOTAL_FORMS": "0",
        "reviewer_assignments-INITIAL_FORMS": "0",
        "reviewer_assignments-MIN_NUM_FORMS": "0",
        "reviewer_assignments-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


@pytest.fixture
def bob(client):
    user = make_call_manager()
    client.force_login(user)
    return user


def test_a_complete_call_is_published(client, bob):
    response = client.post(ADD_URL, call_post())

    assert response.status_code == 302, response.context["adminform"].form.errors
    call = Call.objects.get(slug="what-works-podcasts")
    assert call.published and call.questions.count() == 1


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("privacy_notice", "privacy notice"),
        ("licence_summary", "licence summary"),
        ("credit_promise", "credit promise"),
        ("summary_heading", "heading over the summary"),
    ],
)
def test_a_call_missing_what_it_must_say_is_not_published_and_the_field_says_why(
    client, bob, field, label
):
    response = client.post(ADD_URL, call_post(**{field: "  "}))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()[field]
    assert [error.code for error in errors] == ["required_to_publish"]
    assert f"Fill in the {label} before publishing the call" in response.text
    assert not Call.objects.filter(slug="what-works-podcasts").exists()


def test_a_call_without_questions_is_not_published(client, bob):
    response = client.post(
        ADD_URL,
        call_post(
            **{"questions-TOTAL_FORMS": "0"},
        ),
    )

    assert response.status_code == 200
    assert "Add at least one question before publishing the call." in response.text
    assert not Call.objects.filter(slug="what-works-podcasts").exists()


def test_a_half_written_call_can_be_saved_unpublished(client, bob):
    data = call_post(privacy_notice="", credit_promise="", summary_heading="")
    del data["published"]
    data["questions-TOTAL_FORMS"] = "0"

    response = client.post(ADD_URL, data)

    assert response.status_code == 302
    assert not Call.objects.get(slug="what-works-podcasts").published


def test_the_start_page_takes_its_heading_from_the_call(client, seeded_call):
    other = make_call(summary_heading="Why we are asking")

    assert '<h2 class="h4 mt-5">What we found</h2>' in client.get(f"/{seeded_call.slug}/").text
    page = client.get(f"/{other.slug}/").text
    assert '<h2 class="h4 mt-5">Why we are asking</h2>' in page
    assert "What we found" not in page


def preview_url(call) -> str:
    return reverse("admin:submissions_call_preview", args=[call.pk])


def test_a_call_manager_previews_an_unpublished_call_the_public_cannot_see(client, bob):
    call = make_call(published=False, summary_heading="Why we are asking")

    page = client.get(preview_url(call))

    assert page.status_code == 200
    assert "Preview for staff" in page.text and "This call is not published." in page.text
    assert call.title in page.text and "Why we are asking" in page.text
    assert 'aria-disabled="true">Start now</span>' in page.text  # no way into the journey
    assert client.__class__().get(f"/{call.slug}/").status_code == 404


def test_a_call_that_opens_later_is_previewed_with_its_opening_date(client, bob):
    call = make_call(opens_at=timezone.now() + timedelta(days=30))

    page = client.get(preview_url(call)).text

    assert "It opens on " in page
    assert client.__class__().get(f"/{call.slug}/").status_code == 404


def test_only_staff_who_may_see_the_call_preview_it(client):
    call = make_call(published=False)
    alice = make_reviewer("alice")
    client.force_login(alice)
    assert client.get(preview_url(call)).status_code == 404  # not her call

    assign(alice, call)
    assert client.get(preview_url(call)).status_code == 200

    client.logout()
    response = client.get(preview_url(call))
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_the_call_list_and_page_link_to_the_start_page_or_its_preview(client, bob, seeded_call):
    unpublished = make_call(published=False, opens_at=datetime(2030, 1, 1, tzinfo=LONDON))

    listing = client.get(reverse("admin:submissions_call_changelist")).text
    page = client.get(reverse("admin:submissions_call_change", args=[unpublished.pk])).text

    assert f'<a href="/{seeded_call.slug}/">Open</a>' in listing
    assert f'<a href="{preview_url(unpublished)}">Preview</a>' in listing
    assert f'href="{preview_url(unpublished)}">Preview the start page</a>' in page

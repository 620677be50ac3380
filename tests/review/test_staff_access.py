"""Staff access is as narrow as it looks: files for active staff only, short staff sessions,
and the list and export filter only on what their filters offer."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from submissions.models import Attachment, ExportRecord, Submission

from .. import samples
from ..contributor import url, walk_to
from ..factories import make_call, make_call_manager, make_reviewer, make_submission

pytestmark = pytest.mark.django_db

LIST = reverse("admin:submissions_submission_changelist")
EXPORT = reverse("admin:submissions_submission_export")
LONDON = ZoneInfo("Europe/London")
NOON = datetime(2026, 6, 1, 12, 0, tzinfo=LONDON)


def stored_attachment(submission: Submission) -> Attachment:
    attachment = Attachment(
        submission=submission,
        original_name="report.pdf",
        size=len(samples.PDF),
        content_type="application/pdf",
        sha256="1" * 64,
    )
    attachment.file.save("upload", ContentFile(samples.PDF), save=True)
    return attachment


def download(client: Client, attachment: Attachment):
    return client.get(reverse("attachment_download", args=[attachment.pk]))


# --- Files -----------------------------------------------------------------------------------


def test_a_reviewer_downloads_a_submitted_file(client):
    attachment = stored_attachment(make_submission(make_call()))
    client.force_login(make_reviewer(every_call=True))
    assert download(client, attachment).status_code == 200


def test_a_reviewer_whose_staff_status_was_removed_gets_a_403(client):
    attachment = stored_attachment(make_submission(make_call()))
    alice = make_reviewer(every_call=True)
    client.force_login(alice)
    alice.is_staff = False
    alice.save()
    assert download(client, attachment).status_code == 403


def test_a_member_of_the_reviewers_group_who_is_not_staff_gets_a_403(client):
    attachment = stored_attachment(make_submission(make_call()))
    dave = make_reviewer("frank")
    dave.is_staff = False
    dave.save()
    client.force_login(dave)
    assert download(client, attachment).status_code == 403


def test_a_drafts_file_is_not_found_and_not_linked_from_the_admin(client):
    draft = make_submission(make_call(), state=Submission.State.DRAFT)
    attachment = stored_attachment(draft)
    client.force_login(make_call_manager())
    assert download(client, attachment).status_code == 404
    page = client.get(reverse("admin:submissions_submission_change", args=[draft.pk])).text
    assert "report.pdf" in page
    assert reverse("attachment_download", args=[attachment.pk]) not in page


# --- Sessions --------------------------------------------------------------------------------


def sign_in(client: Client, username: str = "alice") -> None:
    response = client.post(
        reverse("admin:login"), {"username": username, "password": "correct horse"}
    )
    assert response.status_code == 302, response.text[:500]


def test_a_staff_session_ends_when_the_browser_closes(client):
    make_reviewer(every_call=True)
    sign_in(client)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""
    assert client.get(LIST).status_code == 200


def test_a_staff_session_ends_after_two_hours_without_a_request(client):
    make_reviewer(every_call=True)
    with time_machine.travel(NOON, tick=False) as clock:
        sign_in(client)
        clock.move_to(NOON + timedelta(hours=1, minutes=59))
        assert client.get(LIST).status_code == 200  # activity keeps it going
        clock.move_to(NOON + timedelta(hours=3, minutes=58))
        assert client.get(LIST).status_code == 200
        clock.move_to(NOON + timedelta(hours=5, minutes=59))
        response = client.get(LIST)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_the_staff_idle_time_is_configurable(client, settings):
    settings.STAFF_SESSION_IDLE_SECONDS = 600
    make_reviewer(every_call=True)
    with time_machine.travel(NOON, tick=False) as clock:
        sign_in(client)
        clock.move_to(NOON + timedelta(minutes=11))
        response = client.get(LIST)
    assert response.status_code == 302


def test_a_contributor_keeps_a_long_session_for_a_draft(client):
    call = make_call()
    with time_machine.travel(NOON, tick=False) as clock:
        walk_to(client, call, "evidence")
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE == 30 * 24 * 60 * 60
        clock.move_to(NOON + timedelta(days=20))
        assert client.get(url(call, "evidence")).status_code == 200


# --- Filters ---------------------------------------------------------------------------------


@pytest.fixture
def alice(client) -> Client:
    client.force_login(make_reviewer(every_call=True))
    return client


@pytest.fixture
def bob(client) -> Client:
    client.force_login(make_call_manager())
    return client


def test_a_reviewer_cannot_probe_a_drafts_token(alice):
    draft = make_submission(make_call(), state=Submission.State.DRAFT)
    response = alice.get(LIST, {"state": "draft", "token__startswith": draft.token[0]})
    # As for any filter the list does not offer: the list without filters (?e=1).
    assert response.status_code == 302
    assert response.url == f"{LIST}?e=1"


@pytest.mark.parametrize(
    "query",
    [
        {"name__regex": "("},
        {"email__contains": "@"},
        {"call__slug": "x"},
        {"assigned_reviewer__password__startswith": "m"},
        {"review_status__exact": "new\x00"},
        {"q": "\x00"},
    ],
)
def test_a_filter_the_list_does_not_offer_or_a_bad_value_is_ignored_not_a_500(alice, query):
    make_submission(make_call())
    response = alice.get(LIST, query)
    assert response.status_code == 302
    assert response.url == f"{LIST}?e=1"


@pytest.mark.parametrize(
    "query", [{"name__regex": "("}, {"q": "\x00"}, {"token__startswith": "a"}, {"theme": "\x00"}]
)
def test_the_export_refuses_such_filters_with_a_message(bob, query):
    make_submission(make_call())
    response = bob.get(EXPORT, query, follow=True)
    assert response.status_code == 200
    assert "Those filters are not valid, so nothing was exported." in response.text
    assert not ExportRecord.objects.exists()


def test_every_filter_the_list_offers_still_works(alice):
    call = make_call()
    make_submission(call)
    offered = [
        {"state": "all"},
        {"call__id__exact": call.pk},
        {"review_status__exact": "new"},
        {"is_late__exact": "0"},
        {"credit_preference__exact": "none"},
        {"has_files": "no"},
        {"theme": "none"},
        {"reviewer": "nobody"},
        {"submitted_from": "2018-01-01", "submitted_to": "2030-01-01"},
        {"submitted_at__year": "2026", "submitted_at__month": "12"},
        {"q": "Contributor", "o": "1", "p": "1"},
    ]
    for query in offered:
        assert alice.get(LIST, query).status_code == 200, query


def test_reviewers_are_in_a_group_that_may_view_submissions():
    # The premise of the download tests above.
    assert Group.objects.get(name="Reviewers").permissions.filter(codename="view_submission")

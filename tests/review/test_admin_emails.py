"""Outgoing emails in the admin: found by address or reference, read, and sent again."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from submissions.models import ContributorLink, OutgoingEmail
from submissions.models.links import status_link_url
from submissions.outbox import queue as outbox
from submissions.outbox.render import HIDDEN_LINK
from tests.factories import make_call, make_call_manager, make_reviewer, make_submission
from tests.worker import run_worker

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:submissions_outgoingemail_changelist")
Kind = OutgoingEmail.Kind


def change_url(email: OutgoingEmail) -> str:
    return reverse("admin:submissions_outgoingemail_change", args=[email.pk])


def send_again_url(email: OutgoingEmail) -> str:
    return reverse("admin:submissions_outgoingemail_send_again", args=[email.pk])


def opens_status(link: str) -> bool:
    response = Client().get(urlsplit(link).path, follow=True)
    return response.status_code == 200 and "Your submission" in response.text


def status_link_in(message) -> str:
    return re.search(r"http://\S+/status/\S+/", message.body).group(0)


@pytest.fixture
def bob(client):
    user = make_call_manager()
    client.force_login(user)
    return user


@pytest.fixture
def receipt():
    submission = make_submission(make_call(), email="jane.smith@example.org", reference="JANE2345")
    email = outbox.queue(Kind.RECEIPT, [submission.email], submission.call, submission)
    run_worker()
    return email


def test_the_list_shows_who_each_email_went_to(client, bob, receipt):
    page = client.get(LIST_URL).text

    assert "<th>To</th>" in page or ">To</a>" in page
    assert "jane.smith@example.org" in page


@pytest.mark.parametrize("search", ["jane.smith@example.org", "JANE.SMITH", "JANE2345", "jane2345"])
def test_staff_find_a_receipt_by_address_or_reference(client, bob, receipt, search):
    other = make_submission(make_call(), email="someone@example.org")
    outbox.queue(Kind.RECEIPT, [other.email], other.call, other)

    response = client.get(LIST_URL, {"q": search})

    assert [email.pk for email in response.context["cl"].result_list] == [receipt.pk]


def test_the_email_page_shows_its_subject_and_text_without_the_private_link(client, bob, receipt):
    links_before = list(ContributorLink.objects.values_list("token_sha256", flat=True))
    (sent,) = mail.outbox

    page = client.get(change_url(receipt)).text

    assert sent.subject.replace(":", "") in page.replace(":", "")
    assert "Thank you. We have received your evidence" in page
    assert HIDDEN_LINK in page
    assert status_link_in(sent) not in page
    # Reading it issues nothing: the contributor's link still works.
    assert list(ContributorLink.objects.values_list("token_sha256", flat=True)) == links_before
    assert opens_status(status_link_in(sent))


def test_sending_a_receipt_again_sends_a_new_link_and_stops_the_old_one_once_sent(
    client, bob, receipt
):
    (first,) = mail.outbox
    old_link = status_link_in(first)

    response = client.post(send_again_url(receipt), follow=True)

    copy = OutgoingEmail.objects.exclude(pk=receipt.pk).get()
    assert response.redirect_chain[-1][0] == change_url(copy)
    assert "Queued to send again to jane.smith@example.org." in response.text
    assert (copy.kind, copy.recipients, copy.submission) == (
        Kind.RECEIPT,
        ["jane.smith@example.org"],
        receipt.submission,
    )
    assert opens_status(old_link)  # until the copy is sent
    run_worker()
    second = mail.outbox[1]
    assert status_link_in(second) != old_link
    assert opens_status(status_link_in(second))
    assert not opens_status(old_link)


def test_sending_a_status_link_again_works_the_same_way(client, bob):
    submission = make_submission(make_call())
    old_link = status_link_url(submission)
    email = outbox.queue_status_link(submission)
    run_worker()

    client.post(send_again_url(email))
    run_worker()

    assert len(mail.outbox) == 2
    assert not opens_status(status_link_in(mail.outbox[0]))
    assert not opens_status(old_link)
    assert opens_status(status_link_in(mail.outbox[1]))


def test_sending_a_save_and_return_link_again_stops_the_old_link_at_once(client, bob):
    draft = make_submission(make_call(), state="draft", email="jane@example.org")
    email = outbox.queue_resume_link(draft, "jane@example.org")
    run_worker()
    old = re.search(r"http://\S+/return/\S+/", mail.outbox[0].body).group(0)
    assert Client().get(urlsplit(old).path).status_code == 302

    client.post(send_again_url(email))

    assert Client().get(urlsplit(old).path).status_code == 404
    run_worker()
    new = re.search(r"http://\S+/return/\S+/", mail.outbox[1].body).group(0)
    assert Client().get(urlsplit(new).path).status_code == 302


def test_a_save_and_return_link_is_not_sent_again_once_the_draft_was_sent(client, bob):
    draft = make_submission(make_call(), state="draft", email="jane@example.org")
    email = outbox.queue_resume_link(draft, "jane@example.org")
    draft.submit()

    response = client.post(send_again_url(email), follow=True)

    assert "Not sent again: what it was about has gone" in response.text
    assert OutgoingEmail.objects.filter(kind=Kind.RESUME_LINK).count() == 1


def test_send_again_is_a_button_not_a_link(client, bob, receipt):
    page = client.get(change_url(receipt)).text

    assert f'<form method="post" action="{send_again_url(receipt)}" class="send-again">' in page
    assert client.get(send_again_url(receipt)).status_code == 405
    assert OutgoingEmail.objects.count() == 1


def test_a_reviewer_cannot_send_an_email_again(client, receipt):
    client.force_login(make_reviewer(every_call=True))

    response = client.post(send_again_url(receipt))

    assert response.status_code in (403, 404)
    assert OutgoingEmail.objects.count() == 1


def test_an_email_sent_once_per_submission_goes_again_as_itself(client, bob):
    call = make_call(notification_emails="team@example.org")
    submission = make_submission(call)
    submission.request_withdrawal()  # emails the call's staff, once (a unique constraint)
    run_worker()
    email = OutgoingEmail.objects.get(kind=Kind.WITHDRAWAL_REQUESTED)
    sent_id = email.message_id

    response = client.post(send_again_url(email), follow=True)

    assert "Queued to send again to team@example.org." in response.text
    email.refresh_from_db()
    assert OutgoingEmail.objects.filter(kind=Kind.WITHDRAWAL_REQUESTED).count() == 1
    assert (email.state, email.message_id != sent_id) == ("pending", True)
    run_worker()
    assert [m.to for m in mail.outbox if "Withdrawal requested" in m.subject] == [
        ["team@example.org"],
        ["team@example.org"],
    ]

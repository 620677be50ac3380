""" "Lost your link?": a new status link by email, the same answer for any address, limited."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from submissions.models import ContributorLink, OutgoingEmail
from submissions.models.links import status_link_url
from tests.factories import make_call, make_submission
from tests.worker import run_worker

pytestmark = pytest.mark.django_db

STATUS = ContributorLink.Purpose.STATUS


def ask_url(call) -> str:
    return reverse("status_link_request", args=[call.slug])


def ask(client, call, address: str, **extra):
    return client.post(ask_url(call), {"email": address}, follow=True, **extra)


def link_in(message) -> str:
    return re.search(r"http://\S+/status/\S+/", message.body).group(0)


def opens(link: str) -> bool:
    """Whether a fresh browser opening the link sees a status page."""
    response = Client().get(urlsplit(link).path, follow=True)
    return response.status_code == 200 and "Your submission" in response.text


@pytest.fixture
def call():
    return make_call()


@pytest.fixture
def jane(call):
    return make_submission(call, email="jane@example.org", name="Jane Smith")


def test_a_known_address_gets_a_new_link_that_opens_the_status_page(client, call, jane):
    response = ask(client, call, "jane@example.org")

    assert response.redirect_chain == [(reverse("status_link_sent", args=[call.slug]), 302)]
    assert "If <strong>jane@example.org</strong> is the address" in response.text
    email = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.STATUS_LINK)
    assert (email.recipients, email.submission) == (["jane@example.org"], jane)
    run_worker()
    (message,) = mail.outbox
    assert message.to == ["jane@example.org"]
    assert jane.reference in message.subject
    assert "anyone who has it can do the same" in message.body
    assert opens(link_in(message))


def test_the_answer_is_the_same_whether_or_not_the_address_is_known(client, call, jane):
    known = ask(Client(), call, "jane@example.org").text
    unknown = ask(Client(), call, "nobody@example.org").text

    assert known.replace("jane@example.org", "ADDRESS") == unknown.replace(
        "nobody@example.org", "ADDRESS"
    )
    assert OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.STATUS_LINK).count() == 1


def test_the_link_it_replaces_works_until_the_new_one_is_sent(client, call, jane):
    old = status_link_url(jane)  # as in the receipt
    ask(client, call, "jane@example.org")

    assert opens(old)  # queued, not sent: the old link still works
    run_worker()

    (message,) = mail.outbox
    assert opens(link_in(message))
    assert not opens(old)


def test_an_email_that_never_goes_leaves_the_old_link_working(client, call, jane, settings):
    old = status_link_url(jane)
    ask(client, call, "jane@example.org")
    settings.EMAIL_BACKEND = "tests.publishing.test_lost_link.RefusingBackend"

    run_worker()

    assert OutgoingEmail.objects.get(kind="status_link").attempts == 1
    assert opens(old)


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("the mail server is down")


def test_the_address_is_matched_as_the_mail_system_sees_it(client, call):
    jane = make_submission(call, email="Jane.Smith@Example.org")

    ask(client, call, ' "jane.smith"@EXAMPLE.ORG ')

    email = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.STATUS_LINK)
    # To the submission's own address, as it was given: never to the one typed.
    assert (email.submission, email.recipients) == (jane, ["Jane.Smith@Example.org"])


def test_every_submission_from_the_address_gets_its_own_link_and_no_other_calls(client, call):
    first = make_submission(call, email="jane@example.org")
    second = make_submission(call, email="jane@example.org")
    make_submission(call, email="someone@example.org")
    make_submission(make_call(), email="jane@example.org")  # another call's

    ask(client, call, "jane@example.org")

    emails = OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.STATUS_LINK)
    assert {e.submission_id for e in emails} == {first.pk, second.pk}


def test_a_draft_gets_no_link(client, call):
    make_submission(call, email="jane@example.org", state="draft")

    ask(client, call, "jane@example.org")

    assert not OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.STATUS_LINK).exists()


def test_asking_twice_before_the_first_is_sent_sends_one(client, call, jane):
    ask(client, call, "jane@example.org")
    ask(client, call, "jane@example.org")

    assert OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.STATUS_LINK).count() == 1


def test_an_older_email_sent_after_a_newer_one_does_not_replace_its_link(client, call, jane):
    """Two links asked for; the later email happens to go first: its link stays the one."""
    from submissions.outbox import queue as outbox

    older = outbox.queue(OutgoingEmail.Kind.STATUS_LINK, [jane.email], call, jane)
    newer = outbox.queue(OutgoingEmail.Kind.STATUS_LINK, [jane.email], call, jane)
    OutgoingEmail.objects.filter(pk=older.pk).update(
        next_try_at=older.next_try_at.replace(year=2099)
    )
    run_worker()
    (newest_message,) = mail.outbox
    OutgoingEmail.objects.filter(pk=older.pk).update(next_try_at=newer.next_try_at)
    outbox.deliver_email.enqueue(older.pk)
    run_worker()

    assert len(mail.outbox) == 2
    assert opens(link_in(newest_message))
    assert not opens(link_in(mail.outbox[1]))


def test_it_asks_again_for_a_bad_address(client, call):
    response = client.post(ask_url(call), {"email": "not an address"})

    assert response.status_code == 200
    assert response.context["form"].errors.as_data()["email"][0].code == "invalid"
    assert "Error: " in response.text


def test_it_is_limited_per_email_address_as_the_mail_system_sees_it(client, call, jane, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "status_email": "2/h"}
    spellings = ["jane@example.org", "JANE@example.org", '"jane"@example.org']

    statuses = [
        Client(REMOTE_ADDR=f"192.0.2.{i}").post(ask_url(call), {"email": spelling}).status_code
        for i, spelling in enumerate(spellings)
    ]

    assert statuses == [302, 302, 429]


def test_it_is_limited_per_client_address(client, call, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "status_address": "2/h"}

    statuses = [
        client.post(ask_url(call), {"email": f"person{i}@example.org"}).status_code
        for i in range(3)
    ]

    assert statuses == [302, 302, 429]
    assert "You have tried to ask for a new link too many times from your address" in (
        client.post(ask_url(call), {"email": "x@example.org"}).text
    )


def test_the_sent_page_without_asking_leads_back_to_the_form(client, call):
    response = client.get(reverse("status_link_sent", args=[call.slug]))

    assert response.status_code == 302
    assert response.url == ask_url(call)


def test_a_dead_link_and_the_confirmation_offer_a_new_one(client, call, jane):
    dead = client.get(reverse("status", args=[call.slug, "A" * 43]), follow=True)
    assert f'href="{ask_url(call)}"' in dead.text


@pytest.mark.parametrize(("known", "queries"), [(True, 11), (False, 8)])
def test_asking_makes_a_fixed_number_of_queries(
    client, call, jane, known, queries, django_assert_num_queries
):
    address = "jane@example.org" if known else "nobody@example.org"

    # The call; the submissions from that address in a transaction (a savepoint here, as the
    # test runs in one) and, for one that is known, the unsent link dropped, the email and its
    # task; then the new session, looked up and saved in a savepoint of its own.
    with django_assert_num_queries(queries):
        client.post(ask_url(call), {"email": address})

"""Save and come back later: a draft saved in one browser is finished in another."""

import hashlib
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from submissions.models import Call, ContributorLink, OutgoingEmail, Submission
from submissions.models.links import resume_link_expires_at

from ..contributor import ABOUT, evidence_data, url, walk_to
from ..factories import LONDON, make_call
from ..worker import run_worker

pytestmark = pytest.mark.django_db
LINK = re.compile(r"https?://[^/\s]+(/[\w-]+/return/[\w-]+/)")
SAVE = {"save_for_later": "1"}


def ask_for_link(client, call, email=ABOUT["email"]):
    response = client.post(f"/{call.slug}/save/", {"email": email})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response.url == f"/{call.slug}/save/sent/"
    return response


def emailed_link(inbox, address=ABOUT["email"]) -> str:
    """The path of the link in the latest email to `address`."""
    message = inbox.to(address)[-1]
    text = message.get_body(("plain",)).get_content()
    return LINK.search(text).group(1)


def continue_from(client, call, link: str) -> str:
    """Open a link and say "Continue in this browser"; returns where that leads."""
    opened = client.get(link)
    assert opened.status_code == 302, opened.content.decode()[:2000]
    assert opened.url == f"/{call.slug}/return/"  # the token leaves the address bar at once
    asked = client.get(opened.url)
    assert "Continue your evidence in this browser?" in asked.content.decode()
    moved = client.post(opened.url)
    assert moved.status_code == 302
    return moved.url


@pytest.fixture
def working_smtp(settings, mail_servers):
    mail_servers.use(settings, "working")
    return mail_servers.inbox


def test_every_step_after_the_licence_offers_save_and_come_back_later(client, seeded_call):
    consent = client.get(url(seeded_call, "consent")).content.decode()
    assert "Save and come back later" not in consent
    walk_to(client, seeded_call, "check")
    for step in ["about", "evidence", "files", "check"]:
        page = client.get(url(seeded_call, step)).content.decode()
        assert "Save and come back later" in page, step


def test_saving_keeps_what_was_typed_on_the_page_and_asks_for_the_address(client, seeded_call):
    walk_to(client, seeded_call, "evidence")
    data = {**evidence_data(seeded_call), **SAVE}
    response = client.post(url(seeded_call, "evidence"), data)
    assert response.url == f"/{seeded_call.slug}/save/"
    draft = Submission.objects.get()
    assert draft.links == ["https://example.org/report", "http://example.org/slides"]
    page = client.get(response.url).content.decode()
    assert f'value="{ABOUT["email"]}"' in page  # filled in from About you


def test_a_bad_address_gets_a_message_at_the_field(client, seeded_call):
    walk_to(client, seeded_call, "evidence")
    response = client.post(f"/{seeded_call.slug}/save/", {"email": "jane at example"})
    page = response.content.decode()
    assert page.count("Enter an email address in the correct format") == 2  # summary and field
    assert "<title>Error: " in page
    assert not OutgoingEmail.objects.exists()


def test_a_draft_saved_in_one_browser_is_finished_in_another_exactly_once(
    seeded_call, working_smtp
):
    laptop, home = Client(), Client()
    walk_to(laptop, seeded_call, "evidence")
    laptop.post(url(seeded_call, "about"), {**ABOUT, **SAVE})
    ask_for_link(laptop, seeded_call, "jane.home@example.org")
    sent = laptop.get(f"/{seeded_call.slug}/save/sent/").content.decode()
    assert "jane.home@example.org" in sent
    assert "spam" in sent and seeded_call.contact_email in sent
    run_worker()
    link = emailed_link(working_smtp, "jane.home@example.org")

    # The raw token is in the email only: not in the task's arguments, nor in the database.
    token = link.rstrip("/").rsplit("/", 1)[1]
    stored = ContributorLink.objects.get()
    assert stored.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(t.args_kwargs) for t in DBTaskResult.objects.all())

    opened = home.get(link)
    assert opened.status_code == 302
    assert opened["Referrer-Policy"] == "no-referrer"
    assert "j•••@example.org" in home.get(opened.url).content.decode()  # where it was emailed
    assert continue_from(home, seeded_call, link) == url(seeded_call, "evidence")
    page = home.get(url(seeded_call, "evidence")).content.decode()
    assert "Your evidence" in page
    home.post(url(seeded_call, "evidence"), evidence_data(seeded_call))
    home.post(url(seeded_call, "files"), {"action": "continue"})
    assert home.post(url(seeded_call, "check")).url == url(seeded_call, "confirmation")
    submission = Submission.objects.get()
    assert submission.is_submitted
    assert submission.reference in home.get(url(seeded_call, "confirmation")).content.decode()

    # The first browser lost the draft when the second continued it: it cannot send it again,
    # and never sees the reference.
    refused = laptop.post(url(seeded_call, "check"), follow=True)
    assert refused.redirect_chain[-1][0] == f"/{seeded_call.slug}/continued-elsewhere/"
    assert "Your answers were opened in another browser" in refused.content.decode()
    assert submission.reference not in refused.content.decode()
    assert OutgoingEmail.objects.filter(kind="receipt").count() == 1

    # The link now says "already sent", with the reference, and opens nothing.
    again = Client().get(link)
    assert again.status_code == 200
    assert "already been sent" in again.content.decode()
    assert submission.reference in again.content.decode()


def test_opening_the_link_gives_the_browser_a_new_session_key(seeded_call):
    # Session fixation: someone who planted their session cookie in the browser that opens the
    # link must not get the restored draft through that cookie.
    walk_to(Client(), seeded_call, "evidence")
    token = ContributorLink.issue(Submission.objects.get(), ContributorLink.Purpose.RESUME)
    browser = Client()
    planted = browser.session
    planted["planted"] = True
    planted.save()
    browser.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key

    opened = browser.get(f"/{seeded_call.slug}/return/{token}/")
    assert opened.url == f"/{seeded_call.slug}/return/"  # asks first
    continued = browser.post(opened.url)

    assert continued.url == url(seeded_call, "evidence")
    assert browser.cookies[settings.SESSION_COOKIE_NAME].value != planted.session_key
    assert "Your evidence" in browser.get(continued.url).content.decode()
    planter = Client()
    planter.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key
    assert planter.get(url(seeded_call, "evidence")).url == url(seeded_call, "start")


def test_the_link_can_be_opened_again_and_again(seeded_call, working_smtp):
    walk_to(Client(), seeded_call, "evidence")
    owner = Client()
    ContributorLink.objects.all().delete()
    draft = Submission.objects.get()
    owner.session  # noqa: B018 - a session for the owner
    token = ContributorLink.issue(draft, ContributorLink.Purpose.RESUME)
    for _ in range(3):
        browser = Client()
        assert continue_from(browser, seeded_call, f"/{seeded_call.slug}/return/{token}/") == url(
            seeded_call, "evidence"
        )
        assert browser.get(url(seeded_call, "evidence")).status_code == 200


def test_asking_again_invalidates_the_earlier_link(client, seeded_call, working_smtp):
    walk_to(client, seeded_call, "evidence")
    ask_for_link(client, seeded_call)
    run_worker()
    first = emailed_link(working_smtp)
    ask_for_link(client, seeded_call)
    # Invalid from the moment of asking, before the new email is even sent.
    assert Client().get(first).status_code == 404
    run_worker()
    second = emailed_link(working_smtp)
    assert second != first
    replaced = Client().get(first)
    assert replaced.status_code == 404
    assert "This link does not work" in replaced.content.decode()
    assert Client().get(second).status_code == 302


def test_a_forged_link_gets_a_clear_page_and_never_a_draft(seeded_call):
    walk_to(Client(), seeded_call, "evidence")
    ContributorLink.issue(Submission.objects.get(), ContributorLink.Purpose.RESUME)
    stranger = Client()
    for token in ["A" * 43, "x", "A" * 500, "%00"]:
        response = stranger.get(f"/{seeded_call.slug}/return/{token}/")
        assert response.status_code == 404
        assert "This link does not work" in response.content.decode()
    assert stranger.get(url(seeded_call, "about")).url == url(seeded_call, "start")


def test_a_link_for_another_call_opens_nothing(seeded_call):
    other = make_call()
    walk_to(Client(), other, "evidence")
    token = ContributorLink.issue(Submission.objects.get(), ContributorLink.Purpose.RESUME)
    stranger = Client()
    assert stranger.get(f"/{seeded_call.slug}/return/{token}/").status_code == 404
    assert stranger.get(url(seeded_call, "about")).url == url(seeded_call, "start")


def test_a_link_expires_when_a_refusing_call_closes():
    call = make_call(closes_at=datetime(2030, 3, 6, 23, 59, tzinfo=LONDON))
    with time_machine.travel(datetime(2030, 3, 1, tzinfo=LONDON)):
        walk_to(Client(), call, "evidence")
        token = ContributorLink.issue(Submission.objects.get(), ContributorLink.Purpose.RESUME)
        assert Client().get(f"/{call.slug}/return/{token}/").status_code == 302
    with time_machine.travel(datetime(2030, 3, 7, 0, 0, tzinfo=LONDON)):
        response = Client().get(f"/{call.slug}/return/{token}/")
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert (
        "This call closed on Wednesday 6 March 2030, 11:59pm UK time" in response.content.decode()
    )


def test_for_a_call_accepting_late_evidence_a_link_lasts_30_days_after_the_last_save(
    seeded_call,
):
    assert seeded_call.late_policy == Call.LatePolicy.ACCEPT_LATE
    walk_to(Client(), seeded_call, "evidence")
    draft = Submission.objects.get()
    token = ContributorLink.issue(draft, ContributorLink.Purpose.RESUME)
    assert resume_link_expires_at(draft) == draft.updated_at + timedelta(days=30)
    with time_machine.travel(draft.updated_at + timedelta(days=29, hours=23)):
        assert Client().get(f"/{seeded_call.slug}/return/{token}/").status_code == 302
    with time_machine.travel(draft.updated_at + timedelta(days=30, minutes=1)):
        response = Client().get(f"/{seeded_call.slug}/return/{token}/")
    assert response.status_code == 410
    assert "30 days after the answers were last saved" in response.content.decode()


def test_the_resume_link_email_says_how_long_it_works(client, seeded_call, working_smtp):
    walk_to(client, seeded_call, "evidence")
    ask_for_link(client, seeded_call)
    run_worker()
    (message,) = working_smtp.messages
    text = message.get_body(("plain",)).get_content()
    expires = resume_link_expires_at(Submission.objects.get())
    assert f"{timezone.localtime(expires, LONDON):%B %Y}" in text
    assert message.get_body(("html",)) is not None
    assert "Jane" not in message["Subject"]


def test_the_email_says_what_it_is_for_and_what_to_do_if_you_did_not_ask(
    client, seeded_call, working_smtp
):
    walk_to(client, seeded_call, "evidence")
    ask_for_link(client, seeded_call, "someone.else@example.org")
    run_worker()
    (message,) = working_smtp.messages
    for body in (
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    ):
        text = " ".join(re.sub(r"<[^>]+>", " ", body).split())
        assert "Someone asked NCCPE to email this address a link to answers saved" in text
        assert "What Works: Social Media" in text
        assert "opening the link moves them to the browser you open it in" in text
        assert "If you did not ask for this: do not open the link" in text
        assert "whoever asked could read it" in text
        assert seeded_call.contact_email in text


def test_the_save_pages_make_a_fixed_small_number_of_queries(
    client, seeded_call, django_assert_max_num_queries
):
    walk_to(client, seeded_call, "evidence")
    with django_assert_max_num_queries(3):
        client.get(f"/{seeded_call.slug}/save/")
    # The draft's row lock, the old link and pending email removed, the email, its task.
    with django_assert_max_num_queries(13):
        ask_for_link(client, seeded_call)
    with django_assert_max_num_queries(3):
        client.get(f"/{seeded_call.slug}/save/sent/")
    token = ContributorLink.issue(Submission.objects.get(), ContributorLink.Purpose.RESUME)
    browser = Client()
    with django_assert_max_num_queries(6):  # the call, the link, a new session
        assert browser.get(f"/{seeded_call.slug}/return/{token}/").status_code == 302
    with django_assert_max_num_queries(6):  # the session, the call, the link and its draft
        assert browser.get(f"/{seeded_call.slug}/return/").status_code == 200
    # ...and the move: the call, the session, the link; the draft's and the link's row locks
    # and the write (in a savepoint); a new session key (its old row read and deleted).
    with django_assert_max_num_queries(17):
        assert browser.post(f"/{seeded_call.slug}/return/").status_code == 302


def test_asking_for_links_is_limited_per_email_address_and_keeps_the_draft(client, seeded_call):
    walk_to(client, seeded_call, "evidence")
    for _ in range(5):
        ask_for_link(client, seeded_call)
    queued = OutgoingEmail.objects.count()
    refused = client.post(f"/{seeded_call.slug}/save/", {"email": ABOUT["email"]})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "ask for a link by email" in refused.content.decode()
    assert OutgoingEmail.objects.count() == queued  # nothing more was queued
    # The draft is still there, at the step it had reached.
    assert client.get(url(seeded_call, "evidence")).status_code == 200
    assert Submission.objects.get().state == Submission.State.DRAFT

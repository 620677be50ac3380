"""One browser holds a draft at a time, and a link cannot be turned against a contributor.

Each test is an attack of issue 20 (or the honest flow it spoils), through the test client; the
races are in test_races.py and the real browsers in test_browser_resume.py.
"""

import re

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.test import Client

from submissions.models import ContributorLink, OutgoingEmail, Submission

from ..contributor import ABOUT, evidence_data, url, walk_to
from ..worker import run_worker

pytestmark = pytest.mark.django_db

MALLORY = {**ABOUT, "name": "Mallory Sender", "email": "mallory@evil.example"}
VICTIM_ANSWER = "The victim's unpublished pilot results"
CONTINUED = "Your answers were opened in another browser"
LINK = re.compile(r"https?://[^/\s]+(/[\w-]+/return/[\w-]+/)")


def first_answer(call) -> str:
    return f"answer_{call.questions.first().pk}"


def path_of(response) -> str:
    """Where a followed request ended."""
    return (
        response.redirect_chain[-1][0] if response.redirect_chain else response.request["PATH_INFO"]
    )


def link_to(draft: Submission, sent_to: str) -> str:
    token = ContributorLink.issue(draft, ContributorLink.Purpose.RESUME, sent_to=sent_to)
    return f"/{draft.call.slug}/return/{token}/"


def continue_from(client: Client, call, link: str) -> None:
    assert client.get(link).url == f"/{call.slug}/return/"
    assert client.post(f"/{call.slug}/return/").status_code == 302


def attackers_draft(client: Client, call) -> Submission:
    """Mallory agrees to the licence and gives his own details."""
    walk_to(client, call, "about")
    assert client.post(url(call, "about"), MALLORY).status_code == 302
    return Submission.objects.get(name=MALLORY["name"])


def test_a_browser_that_opened_a_link_holds_the_draft_and_the_first_changes_nothing(seeded_call):
    laptop, home = Client(), Client()
    walk_to(laptop, seeded_call, "evidence")
    draft = Submission.objects.get()
    link = link_to(draft, ABOUT["email"])

    continue_from(home, seeded_call, link)
    assert home.post(url(seeded_call, "about"), {**ABOUT, "name": "At Home"}).status_code == 302
    # The first browser goes on as if nothing happened: nothing it sends is written.
    refused = laptop.post(
        url(seeded_call, "about"),
        {**ABOUT, "name": "On Laptop", "email": "x@example.org"},
        follow=True,
    )

    assert path_of(refused) == f"/{seeded_call.slug}/continued-elsewhere/"
    assert CONTINUED in refused.content.decode()
    draft.refresh_from_db()
    assert (draft.name, draft.email) == ("At Home", ABOUT["email"])
    for step in ["about", "evidence", "files", "check", "confirmation"]:
        page = laptop.get(url(seeded_call, step), follow=True)
        assert path_of(page) == f"/{seeded_call.slug}/continued-elsewhere/", step
        assert "At Home" not in page.content.decode(), step
    assert (
        laptop.get(f"/{seeded_call.slug}/save/").url == f"/{seeded_call.slug}/continued-elsewhere/"
    )

    # Home sends it; the laptop never sees the confirmation or the reference.
    home.post(url(seeded_call, "evidence"), evidence_data(seeded_call))
    assert home.post(url(seeded_call, "check")).url == url(seeded_call, "confirmation")
    draft.refresh_from_db()
    assert draft.is_submitted
    for attempt in [
        laptop.post(url(seeded_call, "check"), follow=True),
        laptop.get(url(seeded_call, "confirmation"), follow=True),
    ]:
        assert path_of(attempt) == f"/{seeded_call.slug}/continued-elsewhere/"
        assert draft.reference not in attempt.content.decode()
    assert OutgoingEmail.objects.filter(kind="receipt").count() == 1


def test_a_link_sent_to_someone_elses_address_gives_its_sender_nothing_they_type(seeded_call):
    victim, attacker = Client(), Client()
    walk_to(victim, seeded_call, "evidence")
    own = Submission.objects.get()
    taken = attackers_draft(attacker, seeded_call)
    # A genuine email from the service, asked for by the attacker, to the victim's address.
    assert attacker.post(f"/{seeded_call.slug}/save/", {"email": ABOUT["email"]}).status_code == 302
    run_worker()
    (message,) = [m for m in mail.outbox if m.to == [ABOUT["email"]]]
    link = LINK.search(message.body).group(1)

    # Opening it acts on nothing: the victim's own draft stays theirs, and the page asks.
    asked = victim.get(victim.get(link).url)
    page = asked.content.decode()
    assert "This browser already has answers for this call" in page
    assert MALLORY["name"] in page  # whose answers these are
    assert "Only continue if you asked for this link yourself" in page
    assert ABOUT["name"] in victim.get(url(seeded_call, "about")).content.decode()
    before = Submission.objects.get(pk=taken.pk).holder_sha256

    # Told, the victim continues anyway and types their evidence.
    assert victim.post(f"/{seeded_call.slug}/return/").status_code == 302
    victim.post(url(seeded_call, "about"), ABOUT)
    victim.post(
        url(seeded_call, "evidence"),
        evidence_data(seeded_call, **{first_answer(seeded_call): VICTIM_ANSWER}),
    )
    taken.refresh_from_db()
    assert taken.holder_sha256 != before and taken.link_email == ABOUT["email"]
    assert taken.answers[first_answer(seeded_call)[len("answer_") :]] == VICTIM_ANSWER

    # The attacker reads nothing of it, on any page, and cannot send a link to himself.
    for step in ["about", "evidence", "check", "confirmation"]:
        seen = attacker.get(url(seeded_call, step), follow=True).content.decode()
        assert VICTIM_ANSWER not in seen and ABOUT["name"] not in seen, step
    to_himself = attacker.post(f"/{seeded_call.slug}/save/", {"email": MALLORY["email"]})
    assert to_himself.url == f"/{seeded_call.slug}/continued-elsewhere/"
    lost = attacker.get(f"/{seeded_call.slug}/continued-elsewhere/").content.decode()
    assert "j•••@example.ac.uk" in lost and "mallory" not in lost
    assert attacker.post(f"/{seeded_call.slug}/continued-elsewhere/").status_code == 302
    # Both links (the one he asked for, the one asked for now) went to the victim alone.
    sent = OutgoingEmail.objects.filter(kind="resume_link").order_by("pk")
    assert [e.to for e in sent] == [ABOUT["email"], ABOUT["email"]]
    assert not OutgoingEmail.objects.filter(to__contains="mallory").exists()
    # The victim's own first draft is kept, for a link to its own address.
    assert Submission.objects.filter(pk=own.pk, state=Submission.State.DRAFT).exists()


def test_a_link_opened_from_another_site_changes_nothing_until_asked(seeded_call):
    victim, attacker = Client(), Client()
    walk_to(victim, seeded_call, "evidence")
    taken = attackers_draft(attacker, seeded_call)
    holder = taken.holder_sha256
    # No email at all: the attacker's own link, which another site makes the victim's browser open.
    link = link_to(taken, MALLORY["email"])

    opened = victim.get(
        link, HTTP_REFERER="https://evil.example/", HTTP_SEC_FETCH_SITE="cross-site"
    )

    assert opened.status_code == 302 and opened.url == f"/{seeded_call.slug}/return/"
    assert Submission.objects.get(pk=taken.pk).holder_sha256 == holder
    assert ABOUT["name"] in victim.get(url(seeded_call, "about")).content.decode()
    page = victim.get(opened.url).content.decode()
    assert "m•••@evil.example" in page  # not the victim's address: a reason to stop
    # Another site cannot press the button for them: without the form's CSRF token, refused.
    forged = Client(enforce_csrf_checks=True)
    forged.cookies[settings.SESSION_COOKIE_NAME] = victim.cookies[
        settings.SESSION_COOKIE_NAME
    ].value
    assert forged.post(opened.url).status_code == 403
    assert Submission.objects.get(pk=taken.pk).holder_sha256 == holder
    assert ABOUT["name"] in victim.get(url(seeded_call, "about")).content.decode()


def test_a_link_replaced_before_it_is_confirmed_moves_nothing(seeded_call):
    owner, other = Client(), Client()
    walk_to(owner, seeded_call, "evidence")
    draft = Submission.objects.get()
    link = link_to(draft, ABOUT["email"])
    other.get(link)
    owner.post(f"/{seeded_call.slug}/save/", {"email": ABOUT["email"]})  # a new link: the old stops

    refused = other.post(f"/{seeded_call.slug}/return/", follow=True)

    assert "This link does not work" in refused.content.decode()
    assert owner.get(url(seeded_call, "evidence")).status_code == 200
    assert other.get(url(seeded_call, "evidence")).url == url(seeded_call, "start")


def test_opening_a_link_starts_a_new_session_key_so_a_planted_cookie_gets_nothing(seeded_call):
    walk_to(Client(), seeded_call, "evidence")
    link = link_to(Submission.objects.get(), ABOUT["email"])
    planted = SessionStore()
    planted.create()  # the attacker's session, its cookie left in a shared computer's browser
    victim, attacker = Client(), Client()
    for client in (victim, attacker):
        client.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key

    victim.get(link)
    assert victim.cookies[settings.SESSION_COOKIE_NAME].value != planted.session_key
    assert (
        "Continue your evidence in this browser?"
        not in attacker.get(f"/{seeded_call.slug}/return/").content.decode()
    )
    assert attacker.post(f"/{seeded_call.slug}/return/").status_code == 404
    confirmed = victim.post(f"/{seeded_call.slug}/return/")
    assert confirmed.url == url(seeded_call, "evidence")
    assert attacker.get(url(seeded_call, "evidence")).url == url(seeded_call, "start")
    assert victim.get(url(seeded_call, "evidence")).status_code == 200


def test_a_session_from_before_holders_takes_its_draft_once(seeded_call):
    walk_to(Client(), seeded_call, "evidence")
    draft = Submission.objects.get()
    Submission.objects.filter(pk=draft.pk).update(holder_sha256="")
    first, second = Client(), Client()
    for client in (first, second):
        session = client.session
        session["drafts"] = {seeded_call.slug: draft.token}  # the old format: the token alone
        session.save()

    assert first.get(url(seeded_call, "evidence")).status_code == 200
    assert second.get(url(seeded_call, "evidence"), follow=True).redirect_chain[-1][0] == (
        f"/{seeded_call.slug}/continued-elsewhere/"
    )
    assert first.get(url(seeded_call, "evidence")).status_code == 200


def test_the_continued_elsewhere_page_without_a_lost_draft_goes_back(client, seeded_call):
    assert client.get(f"/{seeded_call.slug}/continued-elsewhere/").url == url(seeded_call, "start")
    walk_to(client, seeded_call, "evidence")
    assert client.get(f"/{seeded_call.slug}/continued-elsewhere/").url == url(
        seeded_call, "evidence"
    )


def test_the_start_page_says_the_answers_were_opened_elsewhere_and_starts_afresh(seeded_call):
    laptop, home = Client(), Client()
    walk_to(laptop, seeded_call, "evidence")
    continue_from(home, seeded_call, link_to(Submission.objects.get(), ABOUT["email"]))

    start = laptop.get(url(seeded_call, "start")).content.decode()
    assert CONTINUED in start and "Continue your evidence" not in start
    assert laptop.post(url(seeded_call, "consent"), {"consent": "yes"}).status_code == 302
    assert Submission.objects.count() == 2  # a new draft; the other stays with home
    assert laptop.get(url(seeded_call, "about")).status_code == 200
    assert home.get(url(seeded_call, "evidence")).status_code == 200

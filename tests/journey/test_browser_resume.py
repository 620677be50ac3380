"""Two real browsers, JavaScript off: a draft saved on one is finished on the other, one browser
holding it at a time; a browser with answers of its own is asked which to keep.

Screenshots of the new pages go to screenshots/ (gitignored) at 1280 and 390 px wide.
"""

import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from submissions.models import ContributorLink, OutgoingEmail, Submission

from ..contributor import ABOUT
from ..factories import make_submission
from ..worker import run_worker

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
LINK = re.compile(r"https?://\S+/return/[\w-]+/")
SLUG = "what-works-social-media"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def photograph(page: Page, name: str) -> None:
    """The page at 1280 and 390 px wide, whole, into screenshots/."""
    SCREENSHOTS.mkdir(exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / f"resume-{width}-{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def latest_link(address: str) -> str:
    run_worker()
    message = [m for m in mail.outbox if m.to == [address]][-1]
    return LINK.search(message.body).group(0)


def start_and_save(page: Page, base: str) -> None:
    page.goto(f"{base}/{SLUG}/licence/")
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()
    for field, label in [
        ("name", "Full name"),
        ("email", "Email address"),
        ("role", "Role or job title"),
        ("organisation", "Organisation"),
    ]:
        page.get_by_label(re.compile(rf"^{re.escape(label)}( \(optional\))?$")).fill(ABOUT[field])
    page.get_by_label("My name and organisation").check()
    page.get_by_role("button", name="Save and come back later").click()
    expect(page).to_have_title(re.compile("^Save and come back later"))
    expect(page.get_by_label("Email address")).to_have_value(ABOUT["email"])
    page.get_by_role("button", name="Send me a link").click()
    expect(page).to_have_title(re.compile("^Check your email"))


def continue_here(page: Page, link: str, photo: str = "") -> None:
    page.goto(link)
    expect(page).to_have_title(re.compile("^Continue your evidence in this browser"))
    assert "/return/" in page.url and not LINK.search(page.url)  # the token left the address
    if photo:
        photograph(page, photo)
    page.get_by_role("button", name="Continue in this browser").click()


def test_a_draft_moves_between_two_browsers_and_is_sent_from_one(live_server, browser, settings):
    settings.SITE_URL = live_server.url
    base = live_server.url
    laptop = browser.new_context(java_script_enabled=False).new_page()
    home = browser.new_context(java_script_enabled=False).new_page()
    start_and_save(laptop, base)
    assert ABOUT["email"] in laptop.content()
    link = latest_link(ABOUT["email"])
    assert OutgoingEmail.objects.get(kind="resume_link").state == "sent"

    # At home: the link asks first, then opens the draft where it was left.
    continue_here(home, link, photo="continue")
    expect(home).to_have_title(re.compile("^Your evidence"))
    home.get_by_label("What excellent practice have we missed?").fill("Typed at home.")
    home.get_by_role("button", name="Continue").click()

    # The laptop is told, plainly, and asks for a link to carry on there.
    laptop.goto(f"{base}/{SLUG}/evidence/")
    expect(laptop).to_have_title(re.compile("^Your answers were opened in another browser"))
    assert "Typed at home." not in laptop.content()
    laptop.get_by_role("button", name="Email me a link").click()
    expect(laptop.get_by_role("status")).to_contain_text("We have sent a link to j•••@")
    photograph(laptop, "continued-elsewhere")
    second = latest_link(ABOUT["email"])
    assert second != link  # asking again stopped the first link
    continue_here(laptop, second)
    expect(laptop).to_have_title(re.compile("^Check your answers"))  # files are optional
    assert "Typed at home." in laptop.content()

    # Now home has lost it, and the laptop sends it.
    home.goto(f"{base}/{SLUG}/check-your-answers/")
    expect(home).to_have_title(re.compile("^Your answers were opened in another browser"))
    laptop.get_by_role("button", name="Accept and send").click()
    expect(laptop).to_have_title(re.compile("^Evidence sent"))
    reference = laptop.locator(".reference").inner_text().strip()
    home.goto(f"{base}/{SLUG}/submitted/")
    expect(home).to_have_title(re.compile("^Your answers were opened in another browser"))
    assert reference not in home.content()
    home.goto(link)
    expect(home).to_have_title(re.compile("^This link does not work"))
    home.goto(second)
    expect(home).to_have_title(re.compile("^Evidence already sent"))
    (submission,) = Submission.objects.all()
    assert (submission.reference, submission.is_submitted) == (reference, True)
    assert submission.answers and "Typed at home." in submission.answers.values()


def test_a_browser_with_answers_of_its_own_is_asked_which_to_keep(
    live_server, browser, settings, seeded_call
):
    settings.SITE_URL = live_server.url
    base = live_server.url
    page = browser.new_context(java_script_enabled=False).new_page()
    start_and_save(page, base)
    page.goto(f"{base}/{SLUG}/about-you/")
    mine = Submission.objects.get()
    # Someone else's draft, and a link to it, emailed to them.
    theirs = make_submission(
        seeded_call, state=Submission.State.DRAFT, name="Sam Other", email="sam@example.org"
    )
    token = ContributorLink.issue(theirs, ContributorLink.Purpose.RESUME, sent_to="sam@example.org")
    link = f"{base}/{SLUG}/return/{token}/"

    page.goto(link)
    expect(page.get_by_role("heading", name="This browser already has answers")).to_be_visible()
    assert "s•••@example.org" in page.content() and "Sam Other" in page.content()
    photograph(page, "keep-or-continue")
    page.get_by_role("link", name="Keep the answers already in this browser").click()
    expect(page).to_have_title(re.compile("^Your evidence"))  # where this browser's draft was
    page.goto(f"{base}/{SLUG}/about-you/")
    expect(page.get_by_label("Full name", exact=True)).to_have_value(ABOUT["name"])
    theirs.refresh_from_db()
    assert theirs.holder_sha256 == ""  # nothing moved

    continue_here(page, link)
    expect(page).to_have_title(re.compile("^Check your answers"))
    assert "Sam Other" in page.content()
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert theirs.holder_sha256 and theirs.link_email == "sam@example.org"
    assert mine.state == Submission.State.DRAFT  # kept, for a link to its own address

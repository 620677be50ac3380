"""Every POST form a person can reach, submitted once in Chromium against a live server.

The test client sends no Origin header and obeys no referrer policy; Chromium does both, and a
form that the CSRF check refuses there (as the status page's did, under `no-referrer`) passes
every test-client test. Each form here must land where a person expects, and no request of the
browser may be answered 403 or 5xx. JavaScript is on, as for most people; the status page's
forms are tried with it off too. The suite runs this on PostgreSQL and on SQLite.
"""

import csv
import io
import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import BrowserContext, Page, expect

from submissions.models import ExportRecord, OutgoingEmail, Submission, Theme

from .. import samples
from ..contributor import ABOUT
from ..factories import PASSWORD, assign, make_call_manager, make_reviewer
from ..worker import run_worker

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SLUG = "what-works-social-media"
RESUME_LINK = re.compile(r"https?://\S+/return/[\w-]+/")
STATUS_LINK = re.compile(r"https?://\S+/status/[\w-]+/")


class Browser:
    """New browser contexts whose every answer is watched: a 403 or a 5xx fails the test."""

    def __init__(self, browser, base: str):
        self.browser, self.base = browser, base
        self.refused: list[str] = []
        self.contexts: list[BrowserContext] = []

    def page(self, javascript: bool = True, width: int = 1280) -> Page:
        context = self.browser.new_context(
            java_script_enabled=javascript,
            viewport={"width": width, "height": 900},
            accept_downloads=True,
        )
        context.on("response", self._watch)
        self.contexts.append(context)
        return context.new_page()

    def _watch(self, response) -> None:
        if response.status == 403 or response.status >= 500:
            self.refused.append(f"{response.status} {response.request.method} {response.url}")

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def people(browser, live_server, settings):
    settings.SITE_URL = live_server.url  # the links in emails lead to this server
    watched = Browser(browser, live_server.url)
    yield watched
    watched.close()
    assert watched.refused == []


def title(page: Page, text: str) -> None:
    expect(page).to_have_title(re.compile("^" + re.escape(text)))


def fill_about_you(page: Page, email: str = ABOUT["email"]) -> None:
    for label, value in [
        ("Full name", ABOUT["name"]),
        ("Email address", email),
        ("Role or job title", ABOUT["role"]),
        ("Organisation (optional)", ABOUT["organisation"]),
    ]:
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("My name and organisation").check()


def emailed_link(pattern: re.Pattern, to: str) -> str:
    run_worker()
    bodies = [m.body for m in mail.outbox if m.to == [to]]
    return pattern.findall(bodies[-1])[-1]


def test_a_contributor_uses_every_form_of_the_journey(people, live_server):
    base = live_server.url
    laptop = people.page()
    laptop.goto(f"{base}/{SLUG}/")
    laptop.get_by_role("button", name="Start now").click()

    # Licence, then About you saved for later: the link by email.
    title(laptop, "Licence")
    laptop.get_by_label("Yes").check()
    laptop.get_by_role("button", name="Continue").click()
    title(laptop, "About you")
    fill_about_you(laptop)
    laptop.get_by_role("button", name="Save and come back later").click()
    title(laptop, "Save and come back later")
    expect(laptop.get_by_label("Email address")).to_have_value(ABOUT["email"])
    laptop.get_by_role("button", name="Send me a link").click()
    title(laptop, "Check your email")

    # The emailed link, in another browser: it asks first, then on to Your evidence, saved for
    # later empty.
    phone = people.page(width=390)
    phone.goto(emailed_link(RESUME_LINK, ABOUT["email"]))
    title(phone, "Continue your evidence in this browser?")
    assert not RESUME_LINK.search(phone.url)  # the token left the address bar
    phone.get_by_role("button", name="Continue in this browser").click()
    title(phone, "Your evidence")
    assert "/return/" not in phone.url
    phone.get_by_role("button", name="Save and come back later").click()
    title(phone, "Save and come back later")
    phone.get_by_role("button", name="Send me a link").click()
    title(phone, "Check your email")
    phone.get_by_role("link", name="continue with your evidence now").click()
    title(phone, "Your evidence")
    phone.get_by_label("What excellent practice have we missed?").fill("Live-tweeted lab days.")
    phone.get_by_role("button", name="Continue").click()

    # Your files: add one, remove it, add another.
    title(phone, "Your files")
    for name in ("Draft.pdf", "Report.pdf"):
        phone.get_by_label("Choose files").set_input_files(
            {"name": name, "mimeType": "application/pdf", "buffer": samples.PDF + name.encode()}
        )
        phone.get_by_role("button", name="Add files", exact=True).click()
        expect(phone.get_by_text("You have added 1 of 5 files.")).to_be_visible()
        if name == "Draft.pdf":
            phone.get_by_role("button", name="Remove Draft.pdf").click()
            expect(phone.get_by_text("No files added yet.")).to_be_visible()
    phone.get_by_role("button", name="Continue").click()

    # Check your answers: change an answer, come back, send.
    title(phone, "Check your answers")
    phone.get_by_role("link", name="Change role or job title").click()
    phone.get_by_label("Role or job title").fill("Reader in Sociology")
    phone.get_by_role("button", name="Save and return to check your answers").click()
    title(phone, "Check your answers")
    expect(phone.get_by_text("Reader in Sociology")).to_be_visible()
    phone.get_by_role("button", name="Accept and send").click()
    title(phone, "Evidence sent")
    reference = phone.locator(".reference").inner_text().strip()
    submission = Submission.objects.get(reference=reference)
    assert (submission.role, submission.is_submitted) == ("Reader in Sociology", True)
    assert list(submission.attachments.values_list("original_name", flat=True)) == ["Report.pdf"]
    assert OutgoingEmail.objects.filter(kind="resume_link").count() == 2  # one from each page

    # The laptop lost the draft to the phone: it is told, and its one form asks for a link (none
    # goes for answers already sent, and the page does not say they were).
    laptop.goto(f"{base}/{SLUG}/evidence/")
    title(laptop, "Your answers were opened in another browser")
    laptop.get_by_role("button", name="Email me a link").click()
    expect(laptop.get_by_role("status")).to_contain_text("We have sent a link to j•••@")
    assert reference not in laptop.content()
    assert OutgoingEmail.objects.filter(kind="resume_link").count() == 2

    # Someone else starts, then says no to the licence: asked first, then deleted.
    other = people.page()
    other.goto(f"{base}/{SLUG}/licence/")
    other.get_by_label("Yes").check()
    other.get_by_role("button", name="Continue").click()
    fill_about_you(other, email="sam@example.org")
    other.get_by_role("button", name="Continue").click()
    title(other, "Your evidence")
    other.goto(f"{base}/{SLUG}/licence/")
    other.get_by_label("No").check()
    other.get_by_role("button", name="Continue").click()
    expect(other.get_by_text("This will delete your answers")).to_be_visible()
    other.get_by_role("button", name="Yes, delete my answers").click()
    title(other, "You have not agreed")
    assert not Submission.objects.filter(email="sam@example.org").exists()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_contributor_uses_both_forms_of_the_status_page(people, seeded_call, javascript):
    from ..factories import make_submission

    submission = make_submission(seeded_call, name="Ada Lovelace", organisation="Engines Ltd")
    from submissions.models.links import status_link_url

    page = people.page(javascript=javascript)
    page.goto(status_link_url(submission))
    title(page, f"Your submission {submission.reference}")
    assert "/status/" in page.url and page.url.endswith("/status/")

    page.get_by_label("Full name", exact=True).fill("Ada King")
    page.get_by_role("button", name="Save credit details").click()
    title(page, f"Your submission {submission.reference}")
    expect(page.get_by_text("Your credit details have been updated.")).to_be_visible()
    submission.refresh_from_db()
    assert submission.name == "Ada King"

    page.get_by_label("I want my submission withdrawn").check()
    page.get_by_role("button", name="Ask for withdrawal").click()
    expect(page.get_by_role("heading", name="Withdrawal requested", exact=True)).to_be_visible()
    submission.refresh_from_db()
    assert submission.withdrawal_requested_at is not None


def signed_in(people: Browser, username: str) -> Page:
    page = people.page()
    page.goto(people.base + reverse("admin:login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page


@pytest.fixture
def review_desk(seeded_call):
    """Ten submitted submissions in the seeded call, as seed_demo makes them."""
    call_command("seed_demo", submissions=10, seed=1, stdout=io.StringIO())
    alice = make_reviewer("alice")
    assign(alice, seeded_call)
    make_call_manager("bob")
    User.objects.create_superuser("carol", "carol@example.org", PASSWORD)
    return seeded_call


def test_staff_use_every_form_of_the_admin(people, review_desk):
    base = people.base
    changelist = base + reverse("admin:submissions_submission_changelist")

    # alice, a reviewer: a decision, then Save and review next.
    alice = signed_in(people, "alice")
    alice.goto(changelist + "?review_status__exact=new&o=1")
    rows = alice.locator("#result_list tbody tr th a")
    first, second, third = (rows.nth(n).inner_text() for n in range(3))
    rows.nth(0).click()
    alice.get_by_role("radio", name="Shortlisted").check()
    alice.get_by_label("Reviewer notes").fill("A strong example.")
    alice.get_by_role("button", name="Save", exact=True).first.click()
    expect(alice.get_by_text("was changed successfully")).to_be_visible()
    assert Submission.objects.get(reference=first).review_status == "shortlisted"

    alice.goto(changelist + "?review_status__exact=new&o=1")
    alice.get_by_role("link", name=second).click()
    alice.get_by_role("radio", name="In review").check()
    alice.get_by_role("button", name="Save and review next").click()
    expect(alice.locator(".submission-facts dd").first).to_have_text(third)
    assert Submission.objects.get(reference=second).review_status == "in_review"

    # A theme, added from its own page.
    alice.goto(base + reverse("admin:submissions_theme_add"))
    alice.get_by_label("Name").fill("Live streaming")
    alice.get_by_role("button", name="Save", exact=True).click()
    expect(alice.get_by_text("was added successfully")).to_be_visible()
    assert Theme.objects.filter(name="Live streaming").exists()

    # An action on the list: the third one included in the toolkit.
    alice.goto(changelist)
    alice.get_by_role("checkbox", name=f"Select this object for an action - {third}").check()
    alice.locator("select[name=action]").select_option(
        label="Set review status to “Included in toolkit”"
    )
    alice.get_by_role("button", name="Go").click()
    expect(alice.locator(".messagelist")).to_contain_text("1")
    assert Submission.objects.get(reference=third).review_status == "included"

    # bob, a call manager: the export, of the selected and of all matching.
    bob = signed_in(people, "bob")
    bob.goto(changelist + "?review_status__exact=included")
    bob.get_by_role("checkbox", name=f"Select this object for an action - {third}").check()
    bob.locator("select[name=action]").select_option(label="Export selected submissions to CSV")
    with bob.expect_download() as selected:
        bob.get_by_role("button", name="Go").click()
    with bob.expect_download() as matching:
        bob.get_by_role("link", name="Export all matching to CSV").click()
    included = Submission.objects.filter(review_status="included")
    assert references(selected.value) == [third]
    assert sorted(references(matching.value)) == sorted(
        included.values_list("reference", flat=True)
    )
    assert ExportRecord.objects.count() == 2

    # carol, a superuser: a new user, two pages.
    carol = signed_in(people, "carol")
    carol.goto(base + reverse("admin:auth_user_add"))
    carol.get_by_label("Username").fill("frank")
    carol.locator("#id_password1").fill("a long pass phrase 4 reviewing")
    carol.locator("#id_password2").fill("a long pass phrase 4 reviewing")
    carol.get_by_role("button", name="Save", exact=True).click()
    expect(carol.get_by_text("was added successfully")).to_be_visible()
    assert urlsplit(carol.url).path.endswith("/change/")
    assert User.objects.get(username="frank").has_usable_password()


def references(download) -> list[str]:
    with open(download.path(), encoding="utf-8-sig", newline="") as file:
        return [row["Reference"] for row in csv.DictReader(file)]

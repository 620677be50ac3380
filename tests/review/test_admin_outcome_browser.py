"""The outcome in Chromium: every form of the outcome screens submitted once, the pack printed by
the browser (a theme to a page, page numbers), axe-core on the screens and the public outcome
page, and each new email read at a phone's width.

Screenshots go to screenshots/ (gitignored): outcome-<width>-<page>.png and email-390-<kind>.png.
"""

import io
import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connections
from django.urls import reverse
from playwright.sync_api import Page, expect

from submissions.models import Call, OutgoingEmail, Release, Submission, SynthesisNote, Theme
from submissions.outbox.queue import queue_toolkit_job
from submissions.outbox.render import build_message
from submissions.publishing.releases import publish_release

from ..factories import make_call_manager, make_submission
from ..journey.test_browser_a11y import assert_no_axe_violations, assert_no_sideways_scrolling
from ..outbox.test_outcome_emails import queue_toolkit_stopped_in_the_second_batch
from ..worker import run_worker

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
PASSWORD = "correct horse"
Kind = OutgoingEmail.Kind
# Longer than the screen's 5 seconds between updates, with room for a loaded machine.
UPDATED = 30_000


@pytest.fixture
def after_the_call(seeded_call) -> Call:
    """The seeded call with 40 demo submissions, some included and themed, as after review."""
    call_command("seed_demo", submissions=40, seed=1, stdout=io.StringIO())
    tools = Theme.objects.get_or_create(name="Tools and training")[0]
    for n, submission in enumerate(Submission.objects.filter(call=seeded_call)[:6]):
        submission.review_status = Submission.ReviewStatus.INCLUDED
        submission.save(update_fields=["review_status"])
        if n < 3:
            submission.themes.add(tools)
    make_call_manager("bob")
    return seeded_call


def sign_in(browser, live_server, width: int = 1280) -> Page:
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(live_server.url + reverse("admin:login"))
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page


def photograph(page: Page, name: str, width: int) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"outcome-{width}-{name}.png"), full_page=True)


def test_a_call_manager_runs_the_outcome_in_a_browser(browser, live_server, after_the_call):
    call = after_the_call
    tools = Theme.objects.get(name="Tools and training")
    page = sign_in(browser, live_server)
    base = live_server.url

    # From the list of calls to the outcome screen.
    page.goto(base + reverse("admin:submissions_call_changelist"))
    page.get_by_role("link", name="Outcome and pack").click()
    expect(page).to_have_title(re.compile("^Outcome: What Works: Social Media"))
    assert_no_axe_violations(page, "outcome")
    photograph(page, "screen", 1280)

    # 1. The pack: Tools first, with the shortlisted ones.
    page.get_by_role("link", name="Choose themes and order").click()
    assert_no_axe_violations(page, "pack options")
    page.get_by_label("Put “Tools and training” in the pack").check()
    page.get_by_label("Position of “Tools and training”").fill("1")
    page.get_by_label("Include shortlisted contributions").check()
    page.get_by_role("button", name="Save the pack's themes and order").click()
    expect(page.get_by_text("The pack's themes and order are saved.")).to_be_visible()
    photograph(page, "pack-options", 1280)
    page.get_by_role("link", name="Open the pack to print").first.click()
    expect(page).to_have_title(re.compile("^Synthesis pack: What Works: Social Media"))
    assert_no_axe_violations(page, "pack")
    first_theme = page.locator(".pack-theme-title").first.inner_text()
    assert first_theme.endswith("Tools and training")
    photograph(page, "pack", 1280)

    # The browser's own print: the print stylesheet, a theme to a page, page numbers.
    from pypdf import PdfReader

    printed = [p.extract_text() for p in PdfReader(io.BytesIO(page.pdf(format="A4"))).pages]
    # The footer ("Page n of N") comes first in each page's text, then the page's own lines.
    tops = [text.split("\n")[:3] for text in printed]
    openings = [n for n, top in enumerate(tops) if any(re.fullmatch(r"THEME \d+", t) for t in top)]
    assert openings and openings[0] >= 1, tops  # the cover comes first
    assert len(openings) == sum("THEME " in text for text in printed), tops
    assert all(f"Page {n} of {len(printed)}" in text for n, text in enumerate(printed, start=1))
    assert "Download the PDF" not in "".join(printed)  # the screen's links are not printed

    # 2. A note for the theme, published.
    page.goto(base + reverse("admin:submissions_call_outcome", args=[call.pk]))
    page.get_by_role("link", name="Tools and training").click()
    assert_no_axe_violations(page, "note")
    page.get_by_label("What the event learned:").fill("Short videos travel.\n\n- caption them")
    page.locator(".informed-by input[type=checkbox]").first.check()
    page.get_by_label("Show on the outcome page").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("What the event learned about Tools and training")).to_be_visible()
    assert SynthesisNote.objects.get(theme=tools).published

    # 3. The outcome page, then 4. the toolkit: not before a release, which the screen says.
    page.get_by_role("button", name="Publish the outcome page").click()
    expect(page.get_by_text("The outcome page is published.")).to_be_visible()
    expect(page.get_by_text("Publish a release first.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Mark the toolkit published"))).to_have_count(
        0
    )
    page.get_by_role("link", name="Go to the releases").click()
    page.get_by_role("button", name="Publish release 1").click()
    page.get_by_label("I have read what this release adds and changes").check()
    page.get_by_role("button", name="Publish release 1").click()
    expect(page.get_by_text(re.compile("Release 1 published"))).to_be_visible()
    page.goto(base + reverse("admin:submissions_call_outcome", args=[call.pk]))
    expect(
        page.get_by_text(re.compile(r"whose evidence is in release 1 \(the latest\)"))
    ).to_be_visible()
    page.get_by_label("Link to the toolkit").fill("https://toolkit.example/social-media")
    page.get_by_label("Also thank every other contributor").check()
    page.get_by_role("button", name="Mark the toolkit published and email contributors").click()
    expect(page.get_by_text("The emails to contributors are being queued")).to_be_visible()
    # The long jobs' worker queues them; the screen says how far it has got.
    expect(page.get_by_text("Queueing the emails to contributors…")).to_be_visible()
    assert_no_axe_violations(page, "outcome, queueing")
    photograph(page, "screen-queueing", 1280)
    page.evaluate("window.notReloaded = true")
    run_worker()
    # The screen follows the worker by itself (review/poll_status.js), and so does the message
    # at its top: it no longer says they are being queued.
    expect(page.locator(".toolkit-emails-count")).to_have_text(
        re.compile(r"^\d+ emails? to contributors in the toolkit"), timeout=UPDATED
    )
    expect(page.get_by_text("Queueing the emails")).to_have_count(0)
    banner = page.locator(".messagelist")
    expect(banner).to_have_text(
        "The toolkit is marked published and the outcome page is public. "
        "All the emails to contributors are queued: this page says how many."
    )
    expect(banner).not_to_contain_text("being queued")
    assert page.evaluate("window.notReloaded === true")
    assert_no_axe_violations(page, "outcome, after")
    photograph(page, "screen-after", 1280)
    assert OutgoingEmail.objects.filter(kind=Kind.TOOLKIT_PUBLISHED).exists()

    # The public page, at both widths, from the start page's link.
    for width in (1280, 390):
        public = browser.new_context(viewport={"width": width, "height": 900}).new_page()
        public.goto(f"{base}/{call.slug}/")
        public.get_by_role("link", name="what came of this call").click()
        expect(public).to_have_title(re.compile("^What came of the call"))
        expect(public.get_by_text("Short videos travel.")).to_be_visible()
        expect(public.get_by_role("link", name="read the toolkit")).to_be_visible()
        # Each credit leads to its contribution's page, as released.
        credit = public.locator(".credit-list a").first
        expect(credit).to_have_attribute("href", re.compile(rf"^/{call.slug}/contributions/\w+/$"))
        assert_no_axe_violations(public, f"outcome page {width}")
        assert_no_sideways_scrolling(public, f"outcome page {width}")
        photograph(public, "public", width)


def test_the_message_says_the_emails_are_queued_when_the_worker_finished_first(
    browser, live_server, after_the_call
):
    """The worker may queue every email before the screen it redirects to has loaded (a small
    call, an idle worker): the message flashed on the way says so at once, not "being queued"
    for a screen that has nothing left to follow."""
    publish_release(after_the_call, number=1)
    page = sign_in(browser, live_server, 390)  # a phone's width
    outcome = live_server.url + reverse("admin:submissions_call_outcome", args=[after_the_call.pk])
    page.goto(outcome)

    def worker_first(route):
        """The press, then the worker, then the browser follows the redirect."""
        response = route.fetch(max_redirects=0)
        assert response.status == 302
        run_worker()
        # Playwright runs this in a greenlet of its own, with its own context, so Django gave it
        # a connection of its own: closed here, or the test database cannot be dropped.
        connections.close_all()
        route.fulfill(response=response)

    page.route(
        outcome,
        lambda route: worker_first(route) if route.request.method == "POST" else route.continue_(),
    )
    page.get_by_label("Link to the toolkit").fill("https://toolkit.example/social-media")
    page.get_by_role("button", name="Mark the toolkit published and email contributors").click()

    expect(page.locator(".toolkit-emails-count")).to_have_text(
        re.compile(r"^\d+ emails? to contributors in the toolkit")
    )
    expect(page.locator(".messagelist")).to_have_text(
        "The toolkit is marked published and the outcome page is public. "
        "All the emails to contributors are queued: this page says how many."
    )
    assert_no_sideways_scrolling(page, "outcome, all queued, 390")
    photograph(page, "screen-worker-first", 390)
    assert OutgoingEmail.objects.filter(kind=Kind.TOOLKIT_PUBLISHED).exists()


def test_the_screen_counts_the_queued_emails_in_place_keeping_focus(
    browser, live_server, after_the_call, monkeypatch
):
    release = publish_release(after_the_call, number=1)
    call = Call.objects.get(pk=after_the_call.pk)
    assert call.mark_toolkit_published("https://toolkit.example/", thank_others=True, by="Bob")
    page = sign_in(browser, live_server)
    page.goto(live_server.url + reverse("admin:submissions_call_outcome", args=[call.pk]))
    expect(page.get_by_text("Queueing the emails to contributors…")).to_be_visible()
    # The call manager is correcting the toolkit's link meanwhile.
    link = page.get_by_label("Link to the toolkit")
    link.fill("https://toolkit.example/corrected")
    page.evaluate("window.notReloaded = true")

    # The long jobs' worker queues a first batch of 2, then is stopped.
    queue_toolkit_stopped_in_the_second_batch(monkeypatch, call, 2)
    total = Call.objects.get(pk=call.pk).toolkit_emails_total
    assert total is not None and total > 2

    expect(page.get_by_text(f"2 of {total} emails queued")).to_be_visible(timeout=UPDATED)
    assert page.evaluate("window.notReloaded === true")
    expect(link).to_be_focused()
    expect(link).to_have_value("https://toolkit.example/corrected")

    # The worker queues the rest: the screen gives the total and announces it.
    assert queue_toolkit_job.call(call.pk, release.pk).startswith("queued")

    announced = re.compile(
        r"^The toolkit's emails: \d+ emails? to contributors in the toolkit and \d+ "
        r"thank-yous? to the others queued$"
    )
    expect(page.get_by_role("status")).to_have_text(announced, timeout=UPDATED)
    expect(page.get_by_text("Stop updating this page")).to_have_count(0)
    assert page.evaluate("window.notReloaded === true")
    expect(link).to_be_focused()
    expect(link).to_have_value("https://toolkit.example/corrected")
    assert_no_axe_violations(page, "outcome, queued in place")


def test_each_new_email_reads_at_a_phones_width(browser, live_server, after_the_call):
    publish_release(after_the_call, number=1)
    call = Call.objects.get(pk=after_the_call.pk)
    call.notification_emails = "team@example.org"
    call.save(update_fields=["notification_emails"])
    withdrawing = make_submission(call, email="leaving@example.org")
    withdrawing.request_withdrawal()
    call.mark_toolkit_published(
        "https://toolkit.example/a-very-long-address/that-goes-on/and-on?with=a&query=string",
        thank_others=True,
        by="Bob",
    )
    # The long jobs' worker queues the toolkit's emails (and sends none).
    assert queue_toolkit_job.call(call.pk, Release.latest_of(call).pk).startswith("queued")
    make_submission(call, email="erased@example.org").erase()
    emails = {
        kind: OutgoingEmail.objects.filter(kind=kind).first()
        for kind in [Kind.TOOLKIT_PUBLISHED, Kind.THANK_YOU, Kind.WITHDRAWAL_REQUESTED, Kind.ERASED]
    }
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    SCREENSHOTS.mkdir(exist_ok=True)
    for kind, email in emails.items():
        assert email is not None, kind
        html, mimetype = build_message(email).alternatives[0]
        assert mimetype == "text/html"
        page.set_content(html)
        assert_no_sideways_scrolling(page, kind)
        size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('p')).fontSize)")
        assert size >= 16, (kind, size)
        page.screenshot(path=str(SCREENSHOTS / f"email-390-{kind}.png"), full_page=True)
    mail.outbox.clear()
    run_worker()
    assert len(mail.outbox) >= 4

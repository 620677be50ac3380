"""Reviewing at speed: a decision at 1280 x 800 in Chromium, counted in clicks and scrolls.

A decision is what a reviewer does on each submission of their queue: choose a review status,
tick a theme, and press "Save and review next". The test walks ten in a row from the home
page's "Assigned to me", counting a click for each control used (two for a drop-down: open it,
pick) and a scroll whenever a control it needs is not in the window. It prints the figures
(docs/staff-guide.md quotes them) and asserts them: each of the ten decisions takes exactly
CLICKS_PER_DECISION clicks and no scroll, so an extra click or a scroll fails it.
"""

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from submissions.models import Submission, Theme
from tests.factories import assign, make_reviewer, make_submission

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PASSWORD = "correct horse"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
WINDOW = {"width": 1280, "height": 800}
DECISIONS = 10
# A status (a radio), a theme, Save and review next: docs/staff-guide.md and the README say 3.
CLICKS_PER_DECISION = 3

IN_WINDOW = """el => {
  const r = el.getBoundingClientRect();
  return r.top >= 0 && r.left >= 0
    && r.bottom <= window.innerHeight && r.right <= window.innerWidth;
}"""


@pytest.fixture
def queue(seeded_call):
    """Thirty demo submissions; twelve assigned to alice, none of them decided yet."""
    call_command("seed_demo", submissions=30, seed=1, stdout=io.StringIO())
    alice = make_reviewer("alice", first_name="Alice", last_name="Smith")
    assign(alice, seeded_call)
    mine = list(Submission.objects.order_by("submitted_at", "pk").values_list("pk", flat=True)[:12])
    Submission.objects.filter(pk__in=mine).update(
        assigned_reviewer=alice, review_status=Submission.ReviewStatus.NEW
    )
    for submission in Submission.objects.filter(pk__in=mine):
        submission.themes.clear()
    # One contributor asked for theirs to be withdrawn: its banner comes first on its page.
    Submission.objects.get(pk=mine[4]).request_withdrawal()
    # And one came years late: the home page's chart keeps to the call's own period.
    make_submission(seeded_call, submitted_at=datetime(2026, 11, 30, 12, tzinfo=UTC), is_late=True)
    return mine


class Counter:
    def __init__(self, page):
        self.page = page
        self.clicks = 0
        self.scrolls = 0

    def reach(self, locator) -> None:
        """Scroll only if the control is out of the window, and count it."""
        if not locator.evaluate(IN_WINDOW):
            self.scrolls += 1
            locator.scroll_into_view_if_needed()

    def choose_status(self, label: str) -> None:
        control = self.page.locator("#id_review_status")
        if control.evaluate("el => el.tagName") == "SELECT":
            self.reach(control)
            control.select_option(label=label)
            self.clicks += 2  # open the list, pick the status
        else:
            radio = self.page.get_by_role("radio", name=label, exact=True)
            self.reach(radio)
            radio.check()
            self.clicks += 1

    def tick(self, label: str) -> None:
        box = self.page.get_by_role("checkbox", name=label, exact=True)
        self.reach(box)
        box.check()
        self.clicks += 1

    def press(self, name: str) -> None:
        button = self.page.get_by_role("button", name=name, exact=True)
        self.reach(button)
        button.click()
        self.clicks += 1


def signed_in(browser, live_server):
    page = browser.new_context(viewport=WINDOW).new_page()
    page.goto(live_server.url + reverse("admin:login"))
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Log out")).to_be_visible()
    return page


def test_a_reviewer_decides_ten_submissions_in_a_row_without_scrolling(browser, live_server, queue):
    assert Theme.objects.filter(name="Blogging").exists()  # one of seed_demo's
    page = signed_in(browser, live_server)
    SCREENSHOTS.mkdir(exist_ok=True)  # the staff guide's pictures are copies of these
    page.screenshot(path=str(SCREENSHOTS / "review-1280-home.png"))
    page.get_by_role("link", name="Assigned to me", exact=True).click()
    page.locator("#result_list tbody tr th a").first.click()
    expect(page.locator(".queue-place")).to_contain_text("1 of 12")
    page.screenshot(path=str(SCREENSHOTS / "review-1280-decision.png"))

    per_decision = []
    decided = []
    banners = 0
    for n in range(1, DECISIONS + 1):
        # Ten in a row, each the next of the queue: "n of 12", at the top of the window.
        expect(page.locator(".queue-place")).to_contain_text(f"{n} of 12")
        assert page.evaluate("window.scrollY") == 0
        reference = page.locator(".submission-facts dd").first.inner_text()
        if page.locator("#withdrawal-request").count():
            banners += 1
            page.screenshot(path=str(SCREENSHOTS / "review-1280-withdrawal.png"))
        counter = Counter(page)
        counter.choose_status("Shortlisted")
        counter.tick("Blogging")
        counter.press("Save and review next")
        expect(page.locator(".submission-facts dd").first).not_to_have_text(reference)
        per_decision.append((counter.clicks, counter.scrolls))
        decided.append(reference)

    clicks = sum(c for c, _ in per_decision) / DECISIONS
    scrolls = sum(s for _, s in per_decision) / DECISIONS
    print(f"\n{DECISIONS} decisions at 1280x800: {clicks:g} clicks and {scrolls:g} scrolls each")
    expect(page.locator(".queue-place")).to_contain_text(f"{DECISIONS + 1} of 12")
    assert len(set(decided)) == DECISIONS
    in_queue_order = Submission.objects.filter(pk__in=queue[:DECISIONS]).order_by("submitted_at")
    assert decided == [s.reference for s in in_queue_order]
    assert banners == 1
    saved = Submission.objects.filter(reference__in=decided)
    assert {s.review_status for s in saved} == {Submission.ReviewStatus.SHORTLISTED}
    assert all("Blogging" in {t.name for t in s.themes.all()} for s in saved)
    assert per_decision == [(CLICKS_PER_DECISION, 0)] * DECISIONS

"""The journey in Chromium: axe-core on every page and error state, keyboard alone, 320 px wide,
the first screen of a phone, the live character count, and screenshots of every page.

Screenshots go to screenshots/ (gitignored): <width>-<nn>-<page>.png, desktop 1280 and phone 390.
"""

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from submissions.models import Call, ContributorLink, Submission

from .. import samples
from ..contributor import ABOUT
from ..factories import make_call, make_submission

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SLUG = "what-works-social-media"
YELLOW = "rgb(255, 221, 0)"
# The README's pictures (docs/*.png are copies of these): the first screen only, to stay small.
README_SHOTS = {
    (390, "start"),
    (390, "licence-error"),
    (390, "calls"),
    (390, "lost-link"),
    (1280, "evidence-too-long-and-bad-link"),
    (1280, "evidence-saved-for-later-with-mistakes"),
    (1280, "check-your-answers"),
    (1280, "confirmation"),
}


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(width: int, height: int = 900, javascript: bool = True) -> Page:
        context = browser.new_context(
            viewport={"width": width, "height": height}, java_script_enabled=javascript
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def assert_no_axe_violations(page: Page, name: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    violations = [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
    ]
    assert violations == [], f"{name}: {violations}"


def assert_no_sideways_scrolling(page: Page, name: str) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth")
    width = page.evaluate("window.innerWidth")
    assert wide <= width, f"{name}: the page is {wide}px wide in a {width}px window"


def walk(page: Page, base: str, seen) -> None:
    """Every page and every error state of the journey, calling seen(name) at each."""
    page.goto(f"{base}/{SLUG}/")
    seen("start")
    page.get_by_role("button", name="Start now").click()
    seen("licence")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(re.compile("^Error: Licence"))
    seen("licence-error")
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()

    seen("about-you")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(re.compile("^Error: About you"))
    seen("about-you-error")
    page.get_by_label("Full name", exact=True).fill(ABOUT["name"])
    page.get_by_label("Email address").fill("jane at example")
    page.get_by_label("Role or job title").fill(ABOUT["role"])
    page.get_by_label("Organisation (optional)", exact=True).fill(ABOUT["organisation"])
    page.get_by_text("Credit co-contributors (optional)").click()
    page.locator("#id_co_1_organisation").fill("UWE Bristol")
    # With JavaScript the next row appears; without, the page comes back with it (and errors).
    page.get_by_role("button", name="Add another co-contributor").click()
    page.locator("#id_co_2_orcid").fill("12345")
    page.get_by_label("My name and organisation").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name="Enter an email address in the correct")).to_be_visible()
    seen("about-you-co-contributor-errors")
    page.get_by_label("Email address").fill(ABOUT["email"])
    page.locator("#id_co_1_name").fill("Ahmed Khan")
    page.locator("#id_co_2_orcid").fill("")
    page.get_by_role("button", name="Continue").click()

    seen("evidence")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(re.compile("^Error: Your evidence"))
    seen("evidence-error")
    first = page.get_by_label("What excellent practice have we missed?")
    first.fill("x" * 5001)
    page.get_by_label("Links to examples").fill("www.example.org/toolkit\njavascript:alert(1)")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name="Answer 1 must be 5,000 characters")).to_be_visible()
    seen("evidence-too-long-and-bad-link")
    # Saved for later as it is: the valid rest is kept, the mistakes stay at their fields.
    page.get_by_role("button", name="Save and come back later").click()
    expect(page.get_by_role("button", name="Save the rest and get a link")).to_be_visible()
    seen("evidence-saved-for-later-with-mistakes")
    first.fill("Live-tweeting lab days with a question box.")
    page.get_by_label("Links to examples").fill("www.example.org/toolkit")
    page.get_by_role("button", name="Continue").click()

    seen("files")
    page.get_by_label("Choose files").set_input_files(
        {"name": "setup.pdf", "mimeType": "application/pdf", "buffer": samples.EXE}
    )
    page.get_by_role("button", name="Add files", exact=True).click()
    expect(page).to_have_title(re.compile("^Error: Your files"))
    seen("files-error")
    page.get_by_label("Choose files").set_input_files(
        {"name": "Report.pdf", "mimeType": "application/pdf", "buffer": samples.PDF}
    )
    page.get_by_role("button", name="Add files", exact=True).click()
    seen("files-added")
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_title(re.compile("^Check your answers"))
    seen("check-your-answers")
    page.get_by_role("link", name="Change full name").click()
    expect(page.get_by_role("button", name="Save and return to check your answers")).to_be_visible()
    seen("about-you-changing")
    page.get_by_role("link", name="Back to check your answers").click()
    page.get_by_role("link", name="Change licence agreement").click()
    page.get_by_label("No").check()
    page.get_by_role("button", name="Save and return to check your answers").click()
    expect(page.get_by_text("This will delete your answers")).to_be_visible()
    seen("delete-answers")
    page.get_by_role("link", name="No, keep my answers").click()
    expect(page).to_have_title(re.compile("^Check your answers"))

    page.goto(f"{base}/{SLUG}/")
    expect(page.get_by_role("button", name="Continue your evidence")).to_be_visible()
    seen("start-with-a-draft")
    page.get_by_role("button", name="Continue your evidence").click()
    page.get_by_role("button", name="Accept and send").click()
    expect(page).to_have_title(re.compile("^Evidence sent"))
    seen("confirmation")

    page.goto(f"{base}/{SLUG}/licence/")
    page.get_by_label("No").check()
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(re.compile("^You have not agreed"))
    seen("declined")
    # "Lost your link?": a bad address, then the answer any address gets.
    page.goto(f"{base}/{SLUG}/status/new-link/")
    seen("lost-link")
    page.get_by_label("Email address").fill("jane at example")
    page.get_by_role("button", name="Email me a new link").click()
    expect(page).to_have_title(re.compile("^Error: Get a new link"))
    seen("lost-link-error")
    page.get_by_label("Email address").fill(ABOUT["email"])
    page.get_by_role("button", name="Email me a new link").click()
    expect(page).to_have_title(re.compile("^Check your email"))
    seen("lost-link-sent")
    for path, name in [
        ("/", "calls"),
        ("/accessibility/", "accessibility"),
        ("/cookies/", "cookies"),
        ("/privacy/", "privacy"),
        ("/no-such-page/", "not-found"),
        ("/closed-call/", "closed"),
    ]:
        page.goto(base + path)
        if name == "closed":
            page.goto(base + "/closed-call/licence/")
            expect(page).to_have_title(re.compile("^This call has closed"))
        seen(name)
    walk_a_link(page, base, seen)


def walk_a_link(page: Page, base: str, seen) -> None:
    """A link to someone's saved answers: the page that asks (also when this browser has answers
    of its own), and the pages of a browser whose answers were opened in another."""
    call = Call.objects.get(slug=SLUG)
    saved = make_submission(call, state=Submission.State.DRAFT, name="Sam Jones")
    token = ContributorLink.issue(saved, ContributorLink.Purpose.RESUME, sent_to="sam@example.org")
    page.goto(f"{base}/{SLUG}/return/{token}/")
    expect(page).to_have_title(re.compile("^Continue your evidence in this browser"))
    seen("link-continue")
    page.get_by_role("link", name="Do not continue").click()
    page.get_by_role("button", name="Start now").click()
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()
    page.goto(f"{base}/{SLUG}/return/{token}/")
    expect(page.get_by_role("heading", name="This browser already has answers")).to_be_visible()
    seen("link-keep-or-continue")
    page.get_by_role("button", name="Continue in this browser").click()
    expect(page).to_have_title(re.compile("^Check your answers"))
    # Then another browser opens a link to them: this one is told, and asks for a link.
    Submission.objects.filter(pk=saved.pk).update(holder_sha256="0" * 64)
    page.goto(f"{base}/{SLUG}/check-your-answers/")
    expect(page).to_have_title(re.compile("^Your answers were opened in another browser"))
    seen("continued-elsewhere")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("status")).to_be_visible()
    seen("continued-elsewhere-link-sent")
    page.goto(f"{base}/{SLUG}/")
    seen("start-answers-opened-elsewhere")


@pytest.fixture
def closed_call(db) -> Call:
    """A call that has closed, and another one open: the home page lists the seeded one (past
    its deadline, still taking late evidence) and the open one."""
    make_call(slug="open-call", title="What Works: Museums")
    return make_call(
        slug="closed-call",
        title="What Works: Podcasts",
        closes_at=datetime(2019, 3, 6, 23, 59, tzinfo=ZoneInfo("Europe/London")),
    )


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_every_page_and_error_state_passes_axe_and_is_photographed(
    live_server, new_page, closed_call, width, height
):
    page = new_page(width, height)
    SCREENSHOTS.mkdir(exist_ok=True)
    names = []

    def seen(name: str) -> None:
        names.append(name)
        assert_no_axe_violations(page, name)
        assert_no_sideways_scrolling(page, name)
        path = SCREENSHOTS / f"{width}-{len(names):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if (width, name) in README_SHOTS:
            page.screenshot(path=str(SCREENSHOTS / f"readme-{width}-{name}.png"))

    walk(page, live_server.url, seen)
    assert len(names) == len(set(names)) == 33


def test_a_320_pixel_wide_journey_without_javascript_never_scrolls_sideways(
    live_server, new_page, closed_call
):
    page = new_page(320, 640, javascript=False)
    names = []

    def seen(name: str) -> None:
        names.append(name)
        assert_no_sideways_scrolling(page, name)

    walk(page, live_server.url, seen)
    assert "confirmation" in names


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)], ids=["phone", "desktop"])
def test_the_first_screen_shows_the_call_who_runs_it_and_start_now(
    live_server, new_page, width, height
):
    page = new_page(width, height)
    page.goto(f"{live_server.url}/{SLUG}/")
    for locator in [
        page.locator(".site-organisation").get_by_text("NCCPE"),
        page.get_by_role("heading", name="What Works: Social Media", level=1),
        page.get_by_text("Use this service to send NCCPE your evidence"),
        page.get_by_role("button", name="Start now"),
    ]:
        box = locator.bounding_box()
        assert box is not None and box["y"] + box["height"] <= height, locator


def focus_by_tab(page: Page, selector: str, most: int = 80, photo: str = "") -> None:
    """Press Tab until the element matching `selector` has the focus; photograph it if asked."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            assert_focus_is_visible(page, selector)
            if photo:
                SCREENSHOTS.mkdir(exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / f"focus-{photo}.png"))
            return
    raise AssertionError(f"{selector} was not reached by Tab")


def assert_focus_is_visible(page: Page, selector: str) -> None:
    """The GOV.UK focus: a yellow background with a dark underline (links, buttons, summary),
    a 3px yellow outline (text fields) or a yellow ring (radios)."""
    style = page.evaluate(
        """() => {
            const e = document.activeElement, s = getComputedStyle(e);
            return {kind: e.type === "radio" ? "radio" : e.tagName.toLowerCase(),
                    background: s.backgroundColor, outline: s.outlineColor,
                    outlineWidth: s.outlineWidth, outlineStyle: s.outlineStyle,
                    shadow: s.boxShadow};
        }"""
    )
    if style["kind"] in {"a", "button", "summary"}:
        assert style["background"] == YELLOW, (selector, style)
        assert "rgb(11, 12, 12)" in style["shadow"], (selector, style)  # the dark underline
    elif style["kind"] == "radio":
        assert YELLOW in style["shadow"], (selector, style)
    else:
        assert style["outline"] == YELLOW and style["outlineWidth"] == "3px", (selector, style)
        assert style["outlineStyle"] == "solid", (selector, style)


def follow(page: Page) -> None:
    """Press Enter on a link or button and wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_contributor_finishes_by_keyboard_alone_with_a_visible_focus(live_server, new_page):
    page = new_page(1280, 900)
    page.goto(f"{live_server.url}/{SLUG}/")
    focus_by_tab(page, "a.start-button", photo="start-now")
    follow(page)

    focus_by_tab(page, "#id_consent_0", photo="radio")
    page.keyboard.press("Space")
    focus_by_tab(page, "button[type=submit]", photo="button")
    follow(page)

    expect(page).to_have_title(re.compile("^About you"))
    for field in ["name", "email", "role", "organisation"]:
        focus_by_tab(page, f"#id_{field}", photo="input" if field == "email" else "")
        page.keyboard.type(ABOUT[field])
    focus_by_tab(page, "summary")
    page.keyboard.press("Enter")  # opens the co-contributors section
    focus_by_tab(page, "#id_co_1_name")
    page.keyboard.type("Ahmed Khan")
    focus_by_tab(page, "#id_credit_preference_0")  # radio
    page.keyboard.press("Space")
    focus_by_tab(page, "button.btn-success[type=submit]")  # Continue, after "Add another"
    follow(page)

    expect(page).to_have_title(re.compile("^Your evidence"))
    focus_by_tab(page, "textarea[data-maxlength]")
    page.keyboard.type("Live-tweeting lab days.")
    focus_by_tab(page, "button[type=submit]")
    follow(page)

    expect(page).to_have_title(re.compile("^Your files"))
    focus_by_tab(page, "button[value=continue]")
    follow(page)

    expect(page).to_have_title(re.compile("^Check your answers"))
    assert "Jane Smith, University of Bristol; Ahmed Khan" in page.content()
    focus_by_tab(page, "a.change-link", photo="change-link")
    focus_by_tab(page, "button.btn-lg")
    follow(page)

    expect(page).to_have_title(re.compile("^Evidence sent"))
    assert re.fullmatch(r"[A-Z2-9]{8}", page.locator(".reference").inner_text().strip())


def test_radios_are_large_targets(live_server, new_page):
    page = new_page(390, 844, javascript=False)
    page.goto(f"{live_server.url}/{SLUG}/licence/")
    for label in ["Yes", "No"]:
        box = page.get_by_label(label).bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24, box


def test_the_live_character_count_says_what_is_left_and_what_is_too_many(live_server, new_page):
    page = new_page(1280, 900)
    page.goto(f"{live_server.url}/{SLUG}/")
    page.get_by_role("button", name="Start now").click()
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()
    for field in ["name", "email", "role"]:
        page.locator(f"#id_{field}").fill(ABOUT[field])
    page.get_by_label("My name and organisation").check()
    page.get_by_role("button", name="Continue").click()

    box = page.get_by_label("What excellent practice have we missed?")
    status = box.locator("xpath=following-sibling::div[contains(@class, 'character-count')]")
    expect(status).to_have_text("You have 5,000 characters remaining")
    box.fill("Ten chars.")
    expect(status).to_have_text("You have 4,990 characters remaining")
    box.fill("x" * 5012)  # nothing cuts the text: no maxlength
    expect(status).to_have_text("You have 12 characters too many")
    assert len(box.input_value()) == 5012

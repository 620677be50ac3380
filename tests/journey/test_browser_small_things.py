"""Small things in Chromium (issue 24 item 6): the credit line as it is typed, "Add another"
with JavaScript and without, the licence question on a phone, and the forms this issue added,
each submitted once in a real browser.
"""

import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from submissions.models import OutgoingEmail, Submission
from submissions.models.links import status_link_url

from ..contributor import ABOUT
from ..factories import make_call, make_submission
from ..worker import run_worker

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SLUG = "what-works-social-media"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(width: int = 1280, height: int = 900, javascript: bool = True) -> Page:
        context = browser.new_context(
            viewport={"width": width, "height": height}, java_script_enabled=javascript
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def to_about_you(page: Page, base: str) -> None:
    page.goto(f"{base}/{SLUG}/licence/")
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(re.compile("^About you"))


def preview(page: Page, choice: str) -> str:
    return page.locator(f'[data-credit-preview="{choice}"]').inner_text()


def expected(choice: str, name: str, organisation: str, people: list[dict]) -> str:
    """What the server says for these details: Submission.credit_line_for, with the page's
    placeholders and empty wording."""
    shown_name = name or "Your Name"
    shown_organisation = organisation if name else "Your Organisation"
    line = Submission.credit_line_for(choice, shown_name, shown_organisation, people)
    empty = {"name_and_organisation": "no credit line"}
    return line or empty.get(choice, "no credit line (enter your organisation)")


def test_the_credit_line_follows_what_is_typed_as_the_server_would_word_it(
    live_server, new_page, seeded_call
):
    page = new_page()
    to_about_you(page, live_server.url)
    choices = ["name_and_organisation", "organisation_only"]
    assert [preview(page, c) for c in choices] == [
        expected(c, "", "", []) for c in choices
    ]  # placeholders, before anything is typed

    page.get_by_label("Full name", exact=True).fill("Siân Lloyd-Jones")
    assert [preview(page, c) for c in choices] == [
        expected(c, "Siân Lloyd-Jones", "", []) for c in choices
    ]
    page.get_by_label("Organisation (optional)", exact=True).fill("  Bangor University ")
    page.get_by_text("Credit co-contributors (optional)").click()
    page.locator("#id_co_1_name").fill("Ahmed Khan")
    page.get_by_role("button", name="Add another co-contributor").click()
    page.locator("#id_co_2_organisation").fill("UWE Bristol")  # an organisation alone
    people = [
        {"name": "Ahmed Khan", "organisation": "", "orcid": ""},
        {"name": "", "organisation": "UWE Bristol", "orcid": ""},
    ]

    for choice in choices:
        assert preview(page, choice) == expected(
            choice, "Siân Lloyd-Jones", "Bangor University", people
        )
    assert page.url.endswith("/about-you/")  # nothing was sent: all of it in the page
    # docs/about-you.png is a copy of this: the co-contributors and the preview in one screen.
    page.evaluate(
        "document.getElementById('credit-preview')"
        ".scrollIntoView({block: 'end', behavior: 'instant'})"
    )
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "readme-1280-about-you.png"))


def test_add_another_with_javascript_shows_the_next_row_at_once(live_server, new_page, seeded_call):
    page = new_page()
    to_about_you(page, live_server.url)
    page.get_by_text("Credit co-contributors (optional)").click()
    add = page.get_by_role("button", name="Add another co-contributor")
    expect(page.locator("#co-contributor-2")).to_be_hidden()

    requests = []
    page.on("request", lambda request: requests.append(request.url))
    for number in range(2, 6):
        add.click()
        expect(page.locator(f"#co-contributor-{number}")).to_be_visible()
        expect(page.locator(f"#id_co_{number}_name")).to_be_focused()

    expect(add).to_be_hidden()  # five is the most
    assert requests == []


def test_add_another_without_javascript_saves_and_comes_back_with_a_row_more(
    live_server, new_page, seeded_call
):
    page = new_page(javascript=False)
    to_about_you(page, live_server.url)
    for field, label in [("name", "Full name"), ("email", "Email address")]:
        page.get_by_label(label, exact=True).fill(ABOUT[field])
    page.get_by_label("Role or job title").fill(ABOUT["role"])
    page.get_by_label("My name and organisation").check()
    page.get_by_text("Credit co-contributors (optional)").click()
    page.locator("#id_co_1_name").fill("Ahmed Khan")

    page.get_by_role("button", name="Add another co-contributor").click()

    expect(page).to_have_url(re.compile(r"/about-you/\?co=2"))
    expect(page.locator("#id_co_2_name")).to_be_visible()
    expect(page.locator("#id_co_1_name")).to_have_value("Ahmed Khan")
    assert Submission.objects.get().co_contributors[0]["name"] == "Ahmed Khan"
    # Enter in a box continues, as it does on every other step.
    page.locator("#id_co_2_name").fill("Li Wei")
    page.locator("#id_co_2_name").press("Enter")
    expect(page).to_have_title(re.compile("^Your evidence"))
    assert [p["name"] for p in Submission.objects.get().co_contributors] == ["Ahmed Khan", "Li Wei"]


def test_on_a_phone_the_licence_radios_are_on_the_first_screen_after_an_error(
    live_server, new_page, seeded_call
):
    page = new_page(390, 844, javascript=False)
    page.goto(f"{live_server.url}/{SLUG}/licence/")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(re.compile("^Error: Licence"))

    heading = page.get_by_role("heading", level=1).bounding_box()
    yes = page.get_by_label("Yes").bounding_box()

    print(
        f"\nlicence error page at 390 px: heading {heading['height']:.0f} px tall, "
        f"Yes at {yes['y']:.0f} px"
    )
    assert heading["height"] < 80  # one or two lines, not seven
    # On the first screen, banner for lateness, error summary and all: it was 1,300 px down.
    assert yes["y"] + yes["height"] <= 844


def test_lost_your_link_is_asked_for_in_chromium_and_the_new_link_opens_the_page(
    live_server, new_page, seeded_call
):
    submission = make_submission(seeded_call, email="jane@example.org")
    page = new_page(javascript=False)
    page.goto(f"{live_server.url}/{SLUG}/")
    page.get_by_role("link", name="get a new link").click()

    page.get_by_label("Email address").fill("Jane@Example.org")
    page.get_by_role("button", name="Email me a new link").click()

    expect(page).to_have_title(re.compile("^Check your email"))
    email = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.STATUS_LINK)
    assert email.submission == submission
    run_worker()
    link = re.search(r"http://\S+/status/\S+/", mail.outbox[-1].body).group(0)
    page.goto(live_server.url + link.split("8000", 1)[1])
    expect(page.get_by_text(f"reference {submission.reference}")).to_be_visible()


def test_the_status_page_adds_a_co_contributor_in_chromium(live_server, new_page):
    submission = make_submission(
        make_call(title="What Works: Museums"), name="Ada Lovelace", organisation="Engines"
    )
    link = status_link_url(submission)
    page = new_page(javascript=False)
    page.goto(live_server.url + link.split("8000", 1)[1])
    page.get_by_text("Credit co-contributors (optional)").click()
    page.locator("#id_credit-co_1_name").fill("Charles Babbage")

    page.get_by_role("button", name="Add another co-contributor").click()

    expect(page.get_by_text("Your credit details have been updated.")).to_be_visible()
    expect(page.locator("#id_credit-co_2_name")).to_be_visible()
    page.locator("#id_credit-co_2_name").fill("Mary Somerville")
    page.get_by_role("button", name="Save credit details").click()
    expect(page.get_by_text("Your credit details have been updated.")).to_be_visible()
    submission.refresh_from_db()
    assert submission.credit_line() == ("Ada Lovelace, Engines; Charles Babbage; Mary Somerville")
    # The status page on a phone, from the top (docs/status-page.png is a copy).
    page.set_viewport_size({"width": 390, "height": 844})
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "status-390.png"))


def test_the_receipt_and_a_new_status_link_read_at_a_phones_width(browser, seeded_call):
    from submissions.outbox import queue as outbox
    from submissions.outbox.render import build_message

    submission = make_submission(
        seeded_call,
        organisation="National Co-ordinating Centre for Public Engagement and Partners",
        links=["https://example.org/" + "a-very-long-address/" * 6],
    )
    emails = [
        outbox.queue(OutgoingEmail.Kind.RECEIPT, [submission.email], seeded_call, submission),
        outbox.queue_status_link(submission),
    ]
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    for email in emails:
        html, _mimetype = build_message(email).alternatives[0]
        page.set_content(html)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, (email.kind, wide)  # 980 px before: no viewport, no column
        size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('p')).fontSize)")
        assert size >= 16, (email.kind, size)
        assert page.get_by_text("NCCPE", exact=True).is_visible()

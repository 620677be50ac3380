"""The review admin in a real browser at 1280 x 900: columns in view, the theme popup, axe-core,
a control character pasted into a form refused at its field."""

import io
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from submissions.models import Call, ExportRecord, OutgoingEmail, Submission, Theme
from submissions.outbox import queue as outbox
from tests.factories import (
    assign,
    make_call,
    make_call_manager,
    make_reviewer,
    make_submission,
    make_superuser,
)

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PASSWORD = "correct horse"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
LIST_COLUMNS = [
    "Reference",
    "Name",
    "Organisation",
    "Submitted (UK time)",
    "Late",
    "Review status",
    "Themes",
    "Files",
    "Assigned reviewer",
]
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def signed_in(browser, live_server, username: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(live_server.url + reverse("admin:login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(
        page.get_by_role("link", name="Log out").or_(page.get_by_text("Log out"))
    ).to_be_visible()
    return page


@pytest.fixture
def demo(request, seeded_call):
    """Demo submissions in the seeded call, as seed_demo makes them; alice reviews it.

    200 for the layout (the issue's walk-through), 30 elsewhere: the browser tests are slow.
    """
    rows = getattr(request, "param", 30)
    call_command("seed_demo", submissions=rows, seed=1, stdout=io.StringIO())
    alice = make_reviewer("alice", first_name="Alice", last_name="Smith")
    assign(alice, seeded_call)
    Submission.objects.filter(
        pk__in=Submission.objects.order_by("-submitted_at").values("pk")[:20]
    ).update(assigned_reviewer=alice)
    return alice


def headers_in_view(page) -> dict[str, tuple[float, float]]:
    boxes = page.eval_on_selector_all(
        "#result_list thead th:not(.action-checkbox-column)",
        "ths => ths.map(th => [th.innerText.trim(), th.getBoundingClientRect().left,"
        " th.getBoundingClientRect().right])",
    )
    return {text.lower(): (left, right) for text, left, right in boxes}


@pytest.mark.parametrize("demo", [200], indirect=True)
def test_every_column_a_reviewer_decides_with_is_in_view_at_1280px(browser, live_server, demo):
    page = signed_in(browser, live_server, "alice")
    page.goto(live_server.url + reverse("admin:submissions_submission_changelist"))

    headers = headers_in_view(page)

    assert list(headers) == [column.lower() for column in LIST_COLUMNS]  # one call: no Call
    for column, (left, right) in headers.items():
        assert left >= 0 and right <= 1280, f"{column} is off-screen: {left}-{right}"
    scroll = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll[0] <= scroll[1]
    # Oldest first: the late ones come last, so filter for them to see the label fit too.
    page.goto(
        live_server.url + reverse("admin:submissions_submission_changelist") + "?is_late__exact=1"
    )
    assert page.locator(".late-label").first.inner_text() == "Late"
    for column, (left, right) in headers_in_view(page).items():
        assert left >= 0 and right <= 1280, f"{column} is off-screen: {left}-{right}"


@pytest.mark.parametrize("demo", [200], indirect=True)
def test_with_two_calls_the_call_column_fits_too(browser, live_server, demo):
    make_submission(make_call(title="What Works: Podcasts and public engagement 2027"))
    make_call_manager("bob")
    page = signed_in(browser, live_server, "bob")
    page.goto(live_server.url + reverse("admin:submissions_submission_changelist"))

    headers = headers_in_view(page)

    assert "call" in headers
    for column, (left, right) in headers.items():
        assert left >= 0 and right <= 1280, f"{column} is off-screen: {left}-{right}"


def test_a_theme_added_from_the_submission_is_ticked_and_saved(browser, live_server, demo):
    submission = Submission.objects.filter(assigned_reviewer=demo).first()
    submission.themes.clear()
    assert Theme.objects.filter(name="Blogging").exists()  # one of seed_demo's
    page = signed_in(browser, live_server, "alice")
    page.goto(
        live_server.url + reverse("admin:submissions_submission_change", args=[submission.pk])
    )

    with page.expect_popup() as opened:
        page.locator("#add_id_themes").click()
    popup = opened.value
    popup.get_by_label("Name").fill("Live streaming")
    with popup.expect_event("close"):
        popup.get_by_role("button", name="Save", exact=True).click()

    new_box = page.get_by_label("Live streaming", exact=True)
    expect(new_box).to_be_checked()
    expect(page.get_by_label("Blogging", exact=True)).not_to_be_checked()
    page.get_by_role("button", name="Save", exact=True).first.click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()

    assert list(submission.themes.values_list("name", flat=True)) == ["Live streaming"]
    assert page.get_by_label("Live streaming", exact=True).is_checked()


def test_a_reviewer_moves_through_the_queue_with_save_and_review_next(browser, live_server, demo):
    page = signed_in(browser, live_server, "alice")
    page.get_by_role("link", name="New and assigned to me").click()
    rows = page.locator("#result_list tbody tr th a")
    first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    rows.nth(0).click()

    page.get_by_role("radio", name="In review").check()
    page.get_by_role("button", name="Save and review next").click()

    expect(page.locator(".submission-facts dd").first).to_have_text(second)
    assert Submission.objects.get(reference=first).review_status == "in_review"


def admin_pages(seeded_call) -> dict[str, list[str]]:
    """Every admin page staff use, by who uses it."""
    submission = Submission.objects.filter(call=seeded_call).first()
    submission.request_withdrawal()  # its page opens with the banner
    email = outbox.queue(OutgoingEmail.Kind.RECEIPT, [submission.email], seeded_call, submission)
    unpublished = make_call(published=False, summary_heading="Why we are asking")
    record = ExportRecord.objects.create(
        username="bob", source="admin_all_matching", filters={"review_status__exact": "new"}
    )
    changelist = reverse("admin:submissions_submission_changelist")
    reviewer = [
        reverse("admin:index"),
        changelist,
        changelist + "?reviewer=me&review_status__exact=new",
        changelist + "?q=social+media",
        changelist + "?submitted_from=6+March",
        reverse("admin:submissions_submission_change", args=[submission.pk]),
        reverse("admin:submissions_submission_history", args=[submission.pk]),
        reverse("admin:submissions_theme_changelist"),
        reverse("admin:submissions_theme_add"),
        reverse("admin:submissions_call_changelist"),
        reverse("admin:submissions_call_change", args=[seeded_call.pk]),
        reverse("admin:submissions_call_acknowledgements", args=[seeded_call.pk]),
        reverse("admin:password_change"),
        # After the event: the outcome screens and the pack (tests/review/test_admin_outcome*).
        reverse("admin:submissions_call_outcome", args=[seeded_call.pk]),
        reverse("admin:submissions_call_pack", args=[seeded_call.pk]),
        reverse("admin:submissions_call_pack_print", args=[seeded_call.pk]),
        # The PDF's page, with no PDF yet (in every state: test_admin_pack_pdf_browser.py).
        reverse("admin:submissions_call_pack_pdf", args=[seeded_call.pk]),
        reverse("admin:submissions_call_note", args=[seeded_call.pk, Theme.objects.first().pk]),
    ]
    manager = [
        reverse("admin:submissions_call_change", args=[seeded_call.pk]),
        reverse("admin:submissions_call_add"),
        reverse("admin:submissions_exportrecord_changelist"),
        reverse("admin:submissions_exportrecord_change", args=[record.pk]),
        reverse("admin:submissions_submission_delete", args=[submission.pk]),
        reverse("admin:submissions_outgoingemail_changelist") + "?q=example",
        reverse("admin:submissions_outgoingemail_change", args=[email.pk]),
        reverse("admin:submissions_call_preview", args=[unpublished.pk]),
        reverse("admin:submissions_call_outcome", args=[seeded_call.pk]),
    ]
    return {"alice": reviewer, "bob": manager}


def test_axe_finds_no_wcag_22_aa_violation_on_any_admin_page_staff_use(
    browser, live_server, demo, seeded_call
):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    make_call_manager("bob")
    User.objects.create_superuser("carol", "carol@example.org", PASSWORD)
    found = {}

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(live_server.url + reverse("admin:login"))
    found["login"] = axe.run(page, options={"runOnly": WCAG_22_AA}).response["violations"]

    for username, urls in admin_pages(seeded_call).items():
        page = signed_in(browser, live_server, username)
        for url in urls:
            page.goto(live_server.url + url)
            result = axe.run(page, options={"runOnly": WCAG_22_AA})
            found[f"{username} {url}"] = result.response["violations"]

    problems = {
        where: [(v["id"], len(v["nodes"]), v["nodes"][0]["target"]) for v in violations]
        for where, violations in found.items()
        if violations
    }
    for where, violations in problems.items():
        print(where, violations)
    assert problems == {}
    assert Call.objects.count() == 2  # the seeded one and the one previewed: "add" added none


def test_a_call_manager_finds_a_receipt_by_address_and_sends_it_again(
    browser, live_server, demo, seeded_call
):
    submission = Submission.objects.filter(call=seeded_call).first()
    outbox.queue(OutgoingEmail.Kind.RECEIPT, [submission.email], seeded_call, submission)
    make_call_manager("bob")
    page = signed_in(browser, live_server, "bob")
    page.goto(live_server.url + reverse("admin:submissions_outgoingemail_changelist"))

    page.locator("#searchbar").fill(submission.email.upper())
    page.get_by_role("button", name="Search").click()
    page.locator("#result_list tbody tr th a").first.click()
    expect(page.get_by_text("Thank you. We have received your evidence")).to_be_visible()
    SCREENSHOTS.mkdir(exist_ok=True)  # docs/review-email.png is a copy
    page.screenshot(path=str(SCREENSHOTS / "review-1280-email.png"))
    page.get_by_role("button", name="Send again").click()

    expect(page.get_by_text(f"Queued to send again to {submission.email}.")).to_be_visible()
    assert OutgoingEmail.objects.filter(submission=submission, kind="receipt").count() == 2


def test_a_call_published_without_a_privacy_notice_is_refused_at_the_field(
    browser, live_server, seeded_call
):
    make_call_manager("bob")
    page = signed_in(browser, live_server, "bob")
    page.goto(live_server.url + reverse("admin:submissions_call_change", args=[seeded_call.pk]))

    page.locator("#id_privacy_notice").fill("")
    page.get_by_role("button", name="Save", exact=True).first.click()

    error = page.locator(".field-privacy_notice .errorlist")
    expect(error).to_have_text(re.compile("Fill in the privacy notice before publishing"))
    seeded_call.refresh_from_db()
    assert seeded_call.privacy_notice


def test_a_first_name_pasted_with_an_escape_is_refused_at_the_field_and_not_saved(
    browser, live_server
):
    alice = make_reviewer(first_name="Alice", last_name="Smith")
    make_superuser()
    page = signed_in(browser, live_server, "carol")
    page.goto(live_server.url + reverse("admin:auth_user_change", args=[alice.pk]))
    first_name = page.get_by_label("First name")

    first_name.fill("")
    first_name.focus()
    page.keyboard.insert_text("Al\x1bice")  # as pasted: no key types an escape
    assert first_name.input_value() == "Al\x1bice"
    page.get_by_role("button", name="Save", exact=True).first.click()

    expect(page.locator(".errornote")).to_have_text("Please correct the error below.")
    error = page.locator(".field-first_name #id_first_name_error")
    expect(error).to_have_text(
        "First name must not contain control characters; retype it rather than pasting it"
    )
    expect(first_name).to_have_attribute("aria-invalid", "true")
    expect(first_name).to_have_attribute("aria-describedby", re.compile("id_first_name_error"))
    expect(first_name).to_have_value("Al\ufffdice")  # shown back without the escape
    first_name.focus()
    expect(first_name).to_be_focused()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "review-1280-control-character.png"))
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name) == ("Alice", "Smith")

    # Retyped, it is saved.
    first_name.fill("Alicia")
    page.get_by_role("button", name="Save", exact=True).first.click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()
    alice.refresh_from_db()
    assert alice.first_name == "Alicia"


def test_the_acknowledgements_copy_to_the_clipboard(browser, live_server, seeded_call):
    make_submission(seeded_call, review_status="included", name="Ada Lovelace")
    make_submission(
        seeded_call, review_status="included", name="Grace Hopper", organisation="Navy Labs"
    )
    make_submission(seeded_call, review_status="included", credit_preference="none")
    make_call_manager("bob")
    page = signed_in(browser, live_server, "bob")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(
        live_server.url + reverse("admin:submissions_call_acknowledgements", args=[seeded_call.pk])
    )
    for name in ["Download as a text file", "Download as a Markdown file"]:
        expect(page.get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_role("button", name="Copy the Markdown")).to_be_visible()

    page.get_by_role("button", name="Copy the plain text").click()

    expect(page.locator(".copy-status").first).to_have_text("Copied.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#acknowledgements-plain").input_value()
    assert "Ada Lovelace" in copied and "Grace Hopper, Navy Labs" in copied
    SCREENSHOTS.mkdir(exist_ok=True)  # docs/acknowledgements.png is a copy
    page.locator(".copy-status").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "review-1280-acknowledgements.png"))

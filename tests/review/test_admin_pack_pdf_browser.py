"""The synthesis pack's PDF in Chromium: "Download the PDF" pressed once on the outcome screen
returns at once to a page that says it is being prepared; the worker runs; the page updates
itself (with JavaScript by the script, without by its meta refresh) and offers the download.
axe-core on the page in each state; screenshots at 1280 and 390 px (screenshots/pack-pdf-*.png).
"""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from playwright.sync_api import Page, expect

from submissions.models import Submission, SynthesisPackPdf, Theme

from ..factories import make_call_manager, make_submission
from ..journey.test_browser_a11y import assert_no_axe_violations, assert_no_sideways_scrolling
from ..worker import run_worker

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
PASSWORD = "correct horse"
# Longer than the page's 5 seconds between updates, with room for a loaded machine.
UPDATED = 30_000


@pytest.fixture
def reviewed(seeded_call):
    tools = Theme.objects.create(name="Tools and training")
    for n in range(4):
        submission = make_submission(
            seeded_call,
            name=f"Contributor {n}",
            review_status=Submission.ReviewStatus.INCLUDED,
        )
        submission.themes.set([tools])
    make_call_manager("bob", first_name="Bob", last_name="Jones")
    return seeded_call


def sign_in(browser, live_server, *, javascript: bool, width: int = 1280) -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": 900},
        java_script_enabled=javascript,
        accept_downloads=True,
    )
    page = context.new_page()
    page.goto(live_server.url + reverse("admin:login"))
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page


def photograph(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(SCREENSHOTS / f"pack-pdf-{width}-{name}.png"), full_page=True)


def pdf_tasks() -> int:
    return DBTaskResult.objects.filter(task_path__endswith="make_pack_pdf").count()


def download(page: Page) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the PDF").click()
    path = info.value.path()
    assert info.value.suggested_filename.startswith("synthesis-pack-what-works-social-media-")
    return Path(path).read_bytes()


def test_with_javascript_the_page_updates_itself_in_place(browser, live_server, reviewed):
    call = reviewed
    page = sign_in(browser, live_server, javascript=True)
    page.goto(live_server.url + reverse("admin:submissions_call_outcome", args=[call.pk]))

    page.get_by_role("button", name="Download the PDF").click()

    expect(page).to_have_title(re.compile("^The synthesis pack's PDF: What Works"))
    expect(page.get_by_role("heading", name="Waiting for the worker")).to_be_visible()
    expect(page.get_by_text("You can leave this page")).to_be_visible()
    assert pdf_tasks() == 1
    assert_no_axe_violations(page, "pack PDF, waiting")
    photograph(page, "waiting")
    # The script swaps the status in place: the page is not reloaded (a marker survives).
    page.evaluate("window.notReloaded = true")

    run_worker()

    expect(page.get_by_role("heading", name="Ready")).to_be_visible(timeout=UPDATED)
    assert page.evaluate("window.notReloaded === true")
    expect(page.get_by_role("status")).to_have_text("The PDF: Ready")
    assert_no_axe_violations(page, "pack PDF, ready")
    photograph(page, "ready")
    assert download(page).startswith(b"%PDF-")
    assert SynthesisPackPdf.objects.get().state == SynthesisPackPdf.State.READY


def test_without_javascript_the_page_reloads_itself_and_a_second_press_starts_nothing(
    browser, live_server, reviewed
):
    call = reviewed
    page = sign_in(browser, live_server, javascript=False)
    outcome = live_server.url + reverse("admin:submissions_call_outcome", args=[call.pk])
    page.goto(outcome)
    page.get_by_role("button", name="Download the PDF").click()
    expect(page.get_by_role("heading", name="Waiting for the worker")).to_be_visible()

    # Pressed again from the outcome screen, while it waits: no second PDF.
    page.goto(outcome)
    expect(page.get_by_role("link", name="Being prepared")).to_be_visible()
    page.get_by_role("button", name="Download the PDF").click()
    expect(page.get_by_text("This PDF was already being prepared")).to_be_visible()
    assert pdf_tasks() == 1

    run_worker()

    expect(page.get_by_role("heading", name="Ready")).to_be_visible(timeout=UPDATED)
    assert download(page).startswith(b"%PDF-")


def test_the_page_reads_at_a_phones_width_in_each_state(browser, live_server, reviewed):
    call = reviewed
    page = sign_in(browser, live_server, javascript=True, width=390)
    pdf_page = live_server.url + reverse("admin:submissions_call_pack_pdf", args=[call.pk])
    page.goto(pdf_page)
    expect(page.get_by_role("heading", name="No PDF made yet")).to_be_visible()
    assert_no_axe_violations(page, "pack PDF, none, 390")
    photograph(page, "none")
    page.get_by_role("button", name="Prepare the PDF").click()
    expect(page.get_by_role("heading", name="Waiting for the worker")).to_be_visible()
    assert_no_sideways_scrolling(page, "pack PDF, waiting, 390")
    photograph(page, "waiting")
    run_worker()
    page.goto(pdf_page)
    expect(page.get_by_role("heading", name="Ready")).to_be_visible()
    assert_no_sideways_scrolling(page, "pack PDF, ready, 390")
    photograph(page, "ready")
    # Deleted (a contribution in it withdrawn), then could not be made.
    Submission.objects.filter(call=call).first().request_withdrawal()
    page.goto(pdf_page)
    expect(page.get_by_role("heading", name="Deleted")).to_be_visible()
    assert_no_axe_violations(page, "pack PDF, deleted, 390")
    page.get_by_role("button", name="Make it again").click()
    pdf = SynthesisPackPdf.objects.get()
    assert SynthesisPackPdf.claim(pdf.pk, str(pdf.job))
    pdf.record_failure(str(pdf.job), "MemoryError: the worker ran out of memory")
    page.goto(pdf_page)
    expect(page.get_by_role("heading", name="It could not be made")).to_be_visible()
    assert_no_axe_violations(page, "pack PDF, failed, 390")
    assert_no_sideways_scrolling(page, "pack PDF, failed, 390")
    photograph(page, "failed")

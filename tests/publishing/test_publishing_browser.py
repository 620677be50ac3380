"""Publishing in Chromium: a call manager redacts and publishes through the admin's forms; the
public pages pass axe at 1280 and 390 px, never scroll sideways, and print.

Screenshots go to screenshots/ (gitignored): publishing-<width>-<page>.png.
"""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from submissions.models import Redaction, Release, ReleaseJob, Submission
from submissions.publishing.release_job import request_release
from tests.factories import make_call, make_call_manager, make_submission
from tests.publishing.helpers import INCLUDED, page_url, public_id
from tests.worker import run_worker

from ..journey.test_browser_a11y import assert_no_axe_violations, assert_no_sideways_scrolling
from ..review.test_admin_browser import signed_in

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
SECRET = "John Smith"


@pytest.fixture
def call():
    call = make_call(questions=2, title="What Works: Social Media")
    q1, q2 = call.questions.all()
    make_submission(
        call,
        review_status=INCLUDED,
        name="Ada Lovelace",
        organisation="University of Bristol",
        answers={
            str(q1.pk): f"Live-tweeting our lab days, run by {SECRET}, drew 40 questions.",
            str(q2.pk): "A question box on Instagram stories.",
        },
        links=["https://example.org/report"],
    )
    make_submission(call, review_status=INCLUDED, credit_preference="none")
    make_call_manager(first_name="Bob", last_name="Manager")
    return call


def shoot(page, name: str, width: int) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"publishing-{width}-{name}.png"), full_page=True)


def test_a_call_manager_redacts_then_publishes_in_the_browser(browser, live_server, call):
    ada = Submission.objects.get(name="Ada Lovelace")
    page = signed_in(browser, live_server, "bob")

    page.goto(live_server.url + reverse("admin:submissions_submission_redactions", args=[ada.pk]))
    assert_no_axe_violations(page, "redactions")
    page.get_by_label("Where").select_option(label="Answer to question 1")
    page.get_by_label("Words to redact").fill(SECRET)
    page.get_by_label("Reason").select_option(label="Personal data of a third party")
    page.get_by_role("button", name="Redact").click()
    expect(page.get_by_text("Redacted. The public text below shows it.")).to_be_visible()
    expect(page.locator(".public-text").first).to_contain_text("run by [redacted: personal data]")
    assert_no_axe_violations(page, "redactions-after")
    shoot(page, "admin-redactions", 1280)
    assert Redaction.objects.get().created_by_name == "Bob Manager"

    page.goto(live_server.url + reverse("admin:submissions_call_releases", args=[call.pk]))
    expect(page.get_by_text("2 added, 0 changed, 0 removed")).to_be_visible()
    assert_no_axe_violations(page, "releases")
    page.get_by_role("button", name="Publish release 1").click()
    expect(page.get_by_text("Confirm that you have read")).to_be_visible()
    page.get_by_label("What changed").fill("The first release.")
    page.get_by_label("I have read what this release adds and changes").check()
    page.get_by_role("button", name="Publish release 1").click()
    expect(page.get_by_text("Release 1 published: 2 contributions, 2 new")).to_be_visible()
    assert_no_axe_violations(page, "releases-published")
    shoot(page, "admin-releases", 1280)
    assert Release.objects.get(call=call).notes == "The first release."

    page.goto(live_server.url + page_url(call, ada))
    expect(page.locator(".answer").first).to_contain_text("run by [redacted: personal data]")
    assert SECRET not in page.content()


def test_the_release_page_follows_the_worker_in_place_then_reloads(browser, live_server, call):
    job, started = request_release(call, number=1)
    assert started
    page = signed_in(browser, live_server, "bob")
    page.goto(live_server.url + reverse("admin:submissions_call_releases", args=[call.pk]))
    expect(page.get_by_text("2 contributions to publish")).to_be_visible()
    page.evaluate("window.notReloaded = true")

    ReleaseJob.objects.filter(pk=job.pk).update(done=1)

    # Its progress swapped in (review/poll_status.js), not the page reloaded.
    expect(page.get_by_text("1 of 2 contributions written (50%)")).to_be_visible(timeout=30_000)
    assert page.evaluate("window.notReloaded === true")
    run_worker()
    # Published: the page is reloaded, with its list of releases.
    expect(page.get_by_role("cell", name="2 (2 new)")).to_be_visible(timeout=30_000)
    assert page.evaluate("window.notReloaded === undefined")
    expect(page.get_by_text("Nothing has changed since release 1.")).to_be_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_public_pages_pass_axe_fit_the_screen_and_print(browser, live_server, call, width):
    from submissions.publishing.releases import publish_release

    publish_release(call, number=1)
    ada = Submission.objects.get(name="Ada Lovelace")
    gone = Submission.objects.get(credit_preference="none")
    gone_page = page_url(call, gone)
    pages = {
        "credits": reverse("credits", args=[call.slug]),
        "contribution": page_url(call, ada),
        "open-data": reverse("open_data", args=[call.slug]),
    }
    # JavaScript on for axe itself; the pages have none of their own.
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    for name, path in pages.items():
        page.goto(live_server.url + path)
        assert_no_axe_violations(page, name)
        assert_no_sideways_scrolling(page, name)
        shoot(page, name, width)
    gone.request_withdrawal()
    from submissions.publishing.releases import take_down

    take_down(gone)
    page.goto(live_server.url + gone_page)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "This contribution is no longer published"
    )
    assert_no_axe_violations(page, "gone")

    # Printed, the page keeps its words and drops the site's navigation.
    page.goto(live_server.url + pages["contribution"])
    page.emulate_media(media="print")
    expect(page.locator(".citation")).to_be_visible()
    expect(page.locator(".site-footer")).to_be_hidden()
    expect(page.locator(".skip-link")).to_be_hidden()
    shoot(page, "contribution-printed", width)
    assert public_id(ada) in page.content()
    context.close()

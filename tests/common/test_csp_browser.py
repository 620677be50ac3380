"""Chromium, with JavaScript on, visits every page of the journey and the admin pages staff use,
and the browser reports no Content-Security-Policy violation on any of them.

Adding a page: put its path in PUBLIC_PAGES or STAFF_PAGES (placeholders {call}, {submission},
{attachment}); pages that need a draft in a given state are reached by the journey walk below.
"""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from submissions.models import (
    ContributorLink,
    OutgoingEmail,
    PublicContribution,
    Submission,
    Theme,
)
from submissions.models.links import status_link_url
from submissions.publishing.releases import publish_release

from .. import samples
from ..contributor import ABOUT
from ..factories import make_call_manager, make_submission

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PUBLIC_PAGES = [
    "/",
    "/{call}/",
    "/{call}/licence/",
    "/{call}/licence/declined/",
    "/{call}/closed/",  # redirects to the start page while the call is open
    "/{call}/status/new-link/",
    "/accessibility/",
    "/cookies/",
    "/privacy/",
    "/no-such-page/",
]
STAFF_PAGES = [
    "/admin/",
    "/admin/submissions/submission/",
    "/admin/submissions/submission/?review_status__exact=new&q=twitter",
    "/admin/submissions/submission/{submission}/change/",
    "/admin/submissions/call/",
    "/admin/submissions/call/{call_pk}/change/",
    "/admin/submissions/call/add/",
    "/admin/submissions/theme/add/",
    "/admin/submissions/exportrecord/",
    "/admin/submissions/outgoingemail/",
    "/admin/submissions/outgoingemail/{email}/change/",
    "/admin/submissions/call/{call_pk}/preview/",
    "/admin/submissions/call/{call_pk}/acknowledgements/",
    "/admin/submissions/call/{call_pk}/releases/",
    "/admin/submissions/submission/{submission}/redactions/",
    "/admin/submissions/call/{call_pk}/outcome/",
    "/admin/submissions/call/{call_pk}/pack/",
    "/admin/submissions/call/{call_pk}/pack/print/",
    "/admin/submissions/call/{call_pk}/pack/pdf/",
    "/admin/submissions/call/{call_pk}/notes/{theme}/",
    "/admin/auth/user/",
    "/admin/auth/user/add/",
    "/admin/axes/accessattempt/",
    "/admin/password_change/",
]

# Recorded in the page itself as well as read from the console: both are the browser's reports.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


class Watcher:
    """Collects CSP reports from the console and from securitypolicyviolation events."""

    def __init__(self, page: Page):
        self.page = page
        self.console: list[str] = []
        page.on("console", self._on_console)
        page.add_init_script(RECORD_VIOLATIONS)

    def _on_console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(f"{self.page.url}: {message.text}")

    def violations(self) -> list[str]:
        # Events are dispatched asynchronously; give them a moment to arrive.
        self.page.wait_for_timeout(100)
        events = self.page.evaluate("window.__cspViolations || []")
        return self.console + [f"{self.page.url}: {event}" for event in events]

    def visit(self, url: str) -> list[str]:
        self.page.goto(url)
        self.page.wait_for_load_state("load")
        return self.violations()


@pytest.fixture
def browser_page(browser):
    return browser.new_context(java_script_enabled=True).new_page()


def test_the_watcher_sees_a_violation_when_there_is_one(live_server, browser_page):
    # The control: the same policy, a page with inline script and style, and it is reported.
    watcher = Watcher(browser_page)

    def inline_page(route):
        route.fulfill(
            status=200,
            headers={"Content-Type": "text/html", "Content-Security-Policy": csp},
            body='<p style="color:red">x</p><script>document.title = "ran"</script>',
        )

    csp = watcher.page.request.get(f"{live_server.url}/healthz").headers["content-security-policy"]
    browser_page.route(f"{live_server.url}/inline-test", inline_page)
    found = watcher.visit(f"{live_server.url}/inline-test")
    assert any("script-src" in v for v in found), found
    assert any("style-src" in v for v in found), found
    assert browser_page.title() != "ran"


def test_no_page_of_the_journey_or_the_staff_admin_breaks_the_policy(
    live_server, browser_page, seeded_call, settings
):
    watcher = Watcher(browser_page)
    base, page = live_server.url, browser_page
    found: list[str] = []
    for path in PUBLIC_PAGES:
        found += watcher.visit(base + path.format(call=seeded_call.slug))

    # The journey, with an error on a page and a file, in the way a contributor goes.
    found += watcher.visit(f"{base}/{seeded_call.slug}/")
    page.get_by_role("button", name="Start now").click()
    found += watcher.violations()
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()
    found += watcher.violations()
    page.get_by_role("button", name="Continue").click()  # empty: the error summary
    expect(page).to_have_title(re.compile("^Error: About you"))
    found += watcher.violations()
    for field, label in [
        ("name", "Full name"),
        ("email", "Email address"),
        ("role", "Role or job title"),
        ("organisation", "Organisation"),
    ]:
        page.get_by_label(re.compile(rf"^{re.escape(label)}( \(optional\))?$")).fill(ABOUT[field])
    page.get_by_label("My name and organisation").check()
    page.get_by_role("button", name="Continue").click()
    found += watcher.violations()
    page.get_by_label("What excellent practice have we missed?").fill("Lab days, live.")
    page.get_by_role("button", name="Continue").click()
    found += watcher.violations()
    found += watcher.visit(f"{base}/{seeded_call.slug}/save/")  # save and come back later
    found += watcher.visit(f"{base}/{seeded_call.slug}/files/")
    page.get_by_label("Choose files").set_input_files(
        {"name": "Report.pdf", "mimeType": "application/pdf", "buffer": samples.PDF}
    )
    page.get_by_role("button", name="Add files", exact=True).click()
    found += watcher.violations()
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(re.compile("^Check your answers"))
    found += watcher.violations()
    page.get_by_role("button", name="Accept and send").click()
    expect(page).to_have_title(re.compile("^Evidence sent"))
    found += watcher.violations()
    # A link to someone's saved answers: the page that asks, then the page of the browser that
    # held them once another takes them.
    saved = make_submission(seeded_call, state=Submission.State.DRAFT, name="Sam Jones")
    token = ContributorLink.issue(saved, ContributorLink.Purpose.RESUME, sent_to="sam@example.org")
    found += watcher.visit(f"{base}/{seeded_call.slug}/return/{token}/")
    expect(page).to_have_title(re.compile("^Continue your evidence in this browser"))
    page.get_by_role("button", name="Continue in this browser").click()
    found += watcher.violations()
    Submission.objects.filter(pk=saved.pk).update(holder_sha256="0" * 64)
    found += watcher.visit(f"{base}/{seeded_call.slug}/continued-elsewhere/")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("status")).to_be_visible()
    found += watcher.violations()
    # Included in the toolkit: the public credits and open data, and the contributor's status.
    sent = Submission.objects.get(state=Submission.State.SUBMITTED)
    Submission.objects.filter(pk=sent.pk).update(review_status=Submission.ReviewStatus.INCLUDED)
    publish_release(seeded_call, number=1)
    status_path = urlsplit(status_link_url(sent)).path
    contribution = (
        f"/{seeded_call.slug}/contributions/{PublicContribution.objects.get().public_id}/"
    )
    theme = Theme.objects.create(name="Tools")
    sent.themes.add(theme)
    seeded_call.publish_outcome()
    public = [f"/{seeded_call.slug}/{page}/" for page in ("credits", "open-data", "outcome")] + [
        f"/{seeded_call.slug}/open-data/releases/1/",
        contribution,
    ]
    for path in [*public, status_path]:
        found += watcher.visit(base + path)
        assert "Page not found" not in page.title(), path
    # The 429 page: a new draft over the limit.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "draft": "0/h"}
    watcher.visit(f"{base}/{seeded_call.slug}/licence/")
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(re.compile("^Too many attempts"))
    found += watcher.violations()

    # Staff: sign in through the form, then every admin page they use.
    make_call_manager(is_superuser=True)
    submission = Submission.objects.get(state=Submission.State.SUBMITTED)
    found += watcher.visit(f"{base}/admin/login/")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("correct horse")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_title(re.compile("^Review and manage calls"))
    found += watcher.violations()
    values = {
        "call": seeded_call.slug,
        "call_pk": seeded_call.pk,
        "submission": submission.pk,
        "attachment": submission.attachments.get().pk,
        "email": OutgoingEmail.objects.filter(submission=submission).first().pk,
        "theme": theme.pk,
    }
    for path in STAFF_PAGES:
        found += watcher.visit(base + path.format(**values))
        assert "/admin/login/" not in page.url, path
    # The pack's PDF while it is prepared: its script fetches the page again (connect-src).
    watcher.visit(f"{base}/admin/submissions/call/{seeded_call.pk}/pack/pdf/")
    with page.expect_response(
        lambda r: r.url.endswith("/pack/pdf/") and r.request.resource_type == "fetch",
        timeout=20_000,
    ):
        page.get_by_role("button", name="Prepare the PDF").click()
        expect(page.get_by_role("heading", name="Waiting for the worker")).to_be_visible()
    found += watcher.violations()
    # The widgets that draw themselves with JavaScript: the calendar and the clock.
    watcher.visit(f"{base}/admin/submissions/call/add/")
    page.locator(".datetimeshortcuts a").first.click()
    found += watcher.violations()
    assert found == []

"""A real browser, with JavaScript off, walks the journey against a live server."""

import re

import pytest
from playwright.sync_api import expect

from submissions.models import Submission

from .. import samples
from ..contributor import ABOUT

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def page(browser):
    return browser.new_context(java_script_enabled=False).new_page()


def test_a_contributor_submits_through_a_browser_and_sees_a_reference(live_server, page):
    page.goto(f"{live_server.url}/what-works-social-media/")
    page.get_by_role("button", name="Start now").click()

    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_text("Step 2 of 5")).to_be_visible()
    page.get_by_role("button", name="Continue").click()  # empty: errors at the fields
    expect(page).to_have_title(re.compile("^" + re.escape("Error: About you")))
    assert page.get_by_role("link", name="Enter your full name").is_visible()
    for field, label in [
        ("name", "Full name"),
        ("email", "Email address"),
        ("role", "Role or job title"),
        ("organisation", "Organisation (optional)"),
        ("orcid", "ORCID iD (optional)"),
    ]:
        # Exact: the co-contributors' fields are "Full name of co-contributor 1" and so on.
        page.get_by_label(label, exact=True).fill(ABOUT[field])
    page.get_by_label("My name and organisation").check()
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("What excellent practice have we missed?").fill(
        "Live-tweeting lab days with a question box."
    )
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_title(re.compile("^" + re.escape("Your files")))
    page.get_by_label("Choose files").set_input_files(
        [
            {"name": "Report.pdf", "mimeType": "application/pdf", "buffer": samples.PDF},
            {"name": "Talk.pptx", "mimeType": "", "buffer": samples.ooxml("pptx")},
        ]
    )
    page.get_by_role("button", name="Add files", exact=True).click()
    expect(page.get_by_text("You have added 2 of 5 files.")).to_be_visible()
    page.get_by_label("Choose files").set_input_files(
        {"name": "setup.pdf", "mimeType": "application/pdf", "buffer": samples.EXE}
    )
    page.get_by_role("button", name="Add files", exact=True).click()
    expect(page).to_have_title(re.compile("^" + re.escape("Error: Your files")))
    assert page.get_by_role("link", name="“setup.pdf” is a program or script").is_visible()
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_title(re.compile("^" + re.escape("Check your answers")))
    assert "Talk.pptx" in page.content()
    assert "Jane Smith, University of Bristol" in page.content()
    page.get_by_role("button", name="Accept and send").click()

    expect(page).to_have_title(re.compile("^" + re.escape("Evidence sent")))
    reference = page.locator(".reference").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{8}", reference)
    submission = Submission.objects.get(reference=reference)
    assert submission.is_submitted
    assert submission.answers[str(submission.call.questions.first().pk)].startswith("Live-tweeting")
    assert sorted(submission.attachments.values_list("original_name", flat=True)) == [
        "Report.pdf",
        "Talk.pptx",
    ]

"""Two real browsers, JavaScript off: a draft saved on one is finished on the other."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from submissions.models import OutgoingEmail, Submission

from ..browser import CHROMIUM
from ..contributor import ABOUT
from ..worker import run_worker

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (make test installs it)"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
LINK = re.compile(r"https?://\S+/return/[\w-]+/")


def test_a_draft_saved_in_one_browser_is_sent_from_another(live_server, browser, settings):
    settings.SITE_URL = live_server.url
    laptop = browser.new_context(java_script_enabled=False).new_page()
    laptop.goto(f"{live_server.url}/what-works-social-media/licence/")
    laptop.get_by_label("Yes").check()
    laptop.get_by_role("button", name="Continue").click()
    for field, label in [
        ("name", "Full name"),
        ("email", "Email address"),
        ("role", "Role or job title"),
        ("organisation", "Organisation"),
    ]:
        laptop.get_by_label(re.compile(rf"^{re.escape(label)}( \(optional\))?$")).fill(ABOUT[field])
    laptop.get_by_label("My name and organisation").check()
    laptop.get_by_role("button", name="Save and come back later").click()

    expect(laptop).to_have_title(re.compile("^Save and come back later"))
    expect(laptop.get_by_label("Email address")).to_have_value(ABOUT["email"])
    laptop.get_by_role("button", name="Send me a link").click()
    expect(laptop).to_have_title(re.compile("^Check your email"))
    assert ABOUT["email"] in laptop.content()

    run_worker()
    (message,) = [m for m in mail.outbox if m.to == [ABOUT["email"]]]
    link = LINK.search(message.body).group(0)
    assert OutgoingEmail.objects.get(kind="resume_link").state == "sent"

    home = browser.new_context(java_script_enabled=False).new_page()
    home.goto(link)
    expect(home).to_have_title(re.compile("^Your evidence"))
    assert "/return/" not in home.url
    home.get_by_label("What excellent practice have we missed?").fill("Finished at home.")
    home.get_by_role("button", name="Continue").click()
    home.get_by_role("button", name="Continue").click()  # no files
    expect(home).to_have_title(re.compile("^Check your answers"))
    home.get_by_role("button", name="Accept and send").click()
    expect(home).to_have_title(re.compile("^Evidence sent"))
    reference = home.locator(".reference").inner_text().strip()

    # Back on the laptop, the draft is found sent; the link now says so.
    laptop.goto(f"{live_server.url}/what-works-social-media/evidence/")
    expect(laptop).to_have_title(re.compile("^Evidence sent"))
    home.goto(link)
    expect(home).to_have_title(re.compile("^Evidence already sent"))
    assert reference in home.content()
    (submission,) = Submission.objects.all()
    assert (submission.reference, submission.is_submitted) == (reference, True)

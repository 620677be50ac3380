"""Every page of the journey, its error states included, is valid HTML to the W3C Nu checker.

The pages are fetched with the test client and written to files; the checker (vnu.jar from the
npm package vnu-jar, which `make test` installs with Java) then reads them all in one run.
"""

import json
import shutil
import subprocess
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client

from submissions.models import (
    Call,
    ContributorLink,
    PublicContribution,
    Submission,
    SynthesisNote,
    Theme,
)
from submissions.models.links import status_link_url
from submissions.publishing.pack import build_pack, options_for, pack_html
from submissions.publishing.releases import publish_release, take_down

from .. import samples
from ..browser import missing
from ..contributor import ABOUT, evidence_data, url, walk_to
from ..factories import make_call, make_call_manager, make_submission
from ..files import BOUNDARY, multipart

pytestmark = pytest.mark.django_db

VNU = Path(settings.BASE_DIR) / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# Typed into the email box: a NUL, U+0001, ESC and a line break, each refused at the field.
HOSTILE_EMAILS = ["jane\x00@example.org", "jane\x01@example.org", "jane\x1b[31m@example.org"]
HOSTILE_EMAILS.append("jane@example.org\r\nBcc: everyone@example.org")


# Typed into every field of every form, hidden ones too: with a NUL (which Django refuses
# before any other check) and without one (so that each field's own checks see the rest).
HOSTILE_VALUES = {
    "nul": "a\x00b\x01c\x1bd\x7fe\x9ff\ufdd0g\uffffh\U0010ffff\r\ni",
    # Two lines, each a link the error message quotes back.
    "controls": "www.example.org/\x01\x02\x1b[31m\x7f\ufffe\r\nnot\x01a link\x0b\ufdd0",
}


class FormFields(HTMLParser):
    """Each POST form of a page, as [(name, value)] of its fields: the value a field is sent
    with (a hidden field's, a button's), or "" for one a person fills in."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[list[tuple[str, str, bool]]] = []
        self._in_post_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._in_post_form = given.get("method", "").lower() == "post"
            if self._in_post_form:
                self.forms.append([])
        elif self._in_post_form and tag in ("input", "textarea", "select", "button"):
            name = given.get("name")
            if name and name != "csrfmiddlewaretoken":
                kind = given.get("type", "")
                fixed = kind == "hidden" or tag == "button"
                self.forms[-1].append((name, given.get("value", ""), fixed))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_post_form = False


def hostile_pages(client: Client, name: str, path: str) -> dict[str, str]:
    """Each form of the page sent back with a hostile value in every field, hidden ones and
    buttons too; then with the hidden fields and buttons as the page gave them."""
    parser = FormFields()
    parser.feed(client.get(path).content.decode())
    assert parser.forms, f"{path} has no form"
    pages = {}
    for number, fields in enumerate(parser.forms):
        for kind, hostile in HOSTILE_VALUES.items():
            for everything in (True, False):
                data: dict[str, list[str]] = {}
                for field, value, fixed in fields:
                    data.setdefault(field, []).append(
                        value if fixed and not everything else hostile
                    )
                response = client.post(path, data, follow=True)
                assert response.status_code in (200, 404), (path, data, response.status_code)
                which = "every-field" if everything else "typed-fields"
                pages[f"hostile-{name}-form{number}-{kind}-{which}"] = response.content.decode()
    return pages


def every_form_with_hostile_values(call: Call) -> dict[str, str]:
    """Every public form, at each step of the journey and on the status page."""
    pages: dict[str, str] = {}
    client = Client()
    pages |= hostile_pages(client, "consent", url(call, "consent"))
    walk_to(client, call, "about")
    pages |= hostile_pages(client, "consent-changing", url(call, "consent") + "?return_to=check")
    pages |= hostile_pages(client, "about", url(call, "about"))
    walk_to(client, call, "evidence")
    pages |= hostile_pages(client, "evidence", url(call, "evidence"))
    walk_to(client, call, "files")
    upload_files(client, call, [("report.pdf", samples.PDF)])
    pages |= hostile_pages(client, "files", url(call, "files"))
    pages |= hostile_pages(client, "save", f"/{call.slug}/save/")
    walk_to(client, call, "check")
    pages |= hostile_pages(client, "about-changing", url(call, "about") + "?return_to=check")
    pages |= hostile_pages(client, "delete-answers", f"/{call.slug}/licence/delete-answers/")
    sent = make_submission(call)
    contributor = Client()
    contributor.get(urlsplit(status_link_url(sent)).path)
    pages |= hostile_pages(contributor, "status", f"/{call.slug}/status/")
    return pages


def checker() -> list[str]:
    if not VNU.exists() or shutil.which("java") is None:
        missing(f"The Nu HTML checker ({VNU}) or java", "`make test` installs both")
    return ["java", "-Xss4m", "-jar", str(VNU)]


def upload_files(client: Client, call: Call, files) -> str:
    body = multipart(files, action="add")
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    return client.post(url(call, "files"), body, content_type=content_type).content.decode()


def journey_pages(call: Call) -> dict[str, str]:
    """Every page a contributor can see, in every error state, as HTML."""
    client = Client()
    pages: dict[str, str] = {}

    def get(name: str, path: str) -> None:
        pages[name] = client.get(path).content.decode()

    def post(name: str, step: str, data: dict) -> None:
        response = client.post(url(call, step), data)
        assert response.status_code == 200, (name, response.status_code)
        pages[name] = response.content.decode()

    get("start", url(call, "start"))
    get("consent", url(call, "consent"))
    post("consent-error", "consent", {})
    post("consent-forged", "consent", {"consent": "\x00maybe\x1b"})
    walk_to(client, call, "about")
    get("about", url(call, "about"))
    get("about-two-co-contributors", url(call, "about") + "?co=2")
    post("about-empty", "about", {})
    for number, email in enumerate(HOSTILE_EMAILS):
        post(f"about-email-{number}", "about", {**ABOUT, "email": email})
    post(
        "about-everything-wrong",
        "about",
        {
            "name": "Alice\r\n\r\nYour account is suspended. Log in at http://evil.example",
            "email": "not an email",
            "role": "Lec\x00turer",
            "organisation": "Org\u202eanisation\ufeff",
            "orcid": "0000-0002-1825-0098",
            "website": "javascript:alert(1)",
            "credit_preference": "\x07",
        },
    )
    walk_to(client, call, "evidence")
    get("evidence", url(call, "evidence"))
    post("evidence-empty", "evidence", evidence_data(call, **{"links": ""}) | _no_answers(call))
    first = f"answer_{call.questions.first().pk}"
    post(
        "evidence-bad",
        "evidence",
        evidence_data(call, **{first: "Text\x01with\x1bcontrols\x00", "links": "ftp://x\n\x00"}),
    )
    # C1 controls and noncharacters, nothing else wrong: refused too, never saved and echoed.
    post(
        "evidence-c1-and-noncharacters",
        "evidence",
        evidence_data(call, **{first: "Twitter\x85chat\x9f with \ufdd0 and \U0010ffff"}),
    )
    walk_to(client, call, "files")
    get("files", url(call, "files"))
    pages["files-refused"] = upload_files(
        client, call, [("evil\u202efdp.exe", samples.EXE), ("notes\x01.txt", samples.TXT)]
    )
    pages["files-added"] = client.get(
        client.post(
            url(call, "files"),
            multipart([("evidence.pdf", samples.PDF)], action="add"),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
        ).url
    ).content.decode()
    post("evidence-too-long", "evidence", evidence_data(call, **{first: "x" * 5001}))
    # Save and come back later, and the links it sends.
    get("save", f"/{call.slug}/save/")
    pages["save-error"] = client.post(f"/{call.slug}/save/", {"email": "a\x00b"}).content.decode()
    client.post(f"/{call.slug}/save/", {"email": ABOUT["email"]})
    get("save-sent", f"/{call.slug}/save/sent/")
    get("link-does-not-work", f"/{call.slug}/return/{'x' * 43}/")
    # Another draft continued from its link in another browser: "your answers have been restored".
    resumed, other = Client(), make_submission(call, state=Submission.State.DRAFT)
    token = ContributorLink.issue(other, ContributorLink.Purpose.RESUME)
    resumed.get(f"/{call.slug}/return/{token}/")
    pages["answers-restored"] = resumed.post(f"/{call.slug}/return/", follow=True).text
    # "No" to the licence with answers typed: asked first.
    get("delete-answers", f"/{call.slug}/licence/delete-answers/")
    walk_to(client, call, "check")
    get("check", url(call, "check"))
    client.post(url(call, "check"))
    get("confirmation", url(call, "confirmation"))
    # Included in the toolkit: credits, open data, and the contributor's status page.
    sent = Submission.objects.get(state=Submission.State.SUBMITTED)
    Submission.objects.filter(pk=sent.pk).update(review_status=Submission.ReviewStatus.INCLUDED)
    publish_release(call, number=1)
    public_id = PublicContribution.objects.get(submission=sent).public_id
    get("credits", f"/{call.slug}/credits/")
    # After the event: the outcome page, with a published note, and the synthesis pack.
    theme = Theme.objects.create(name="Tools")
    sent.themes.add(theme)
    SynthesisNote.record(
        call,
        theme,
        text="Videos.\n\n- short",
        informed_by=[sent],
        published=True,
        by=None,
        by_name="",
    )
    call.mark_toolkit_published("https://toolkit.example/", thank_others=False, by="")
    get("outcome", f"/{call.slug}/outcome/")
    pages["pack"] = pack_html(
        build_pack(call, options_for(call)), links={"pdf": "/", "options": "/"}
    )
    get("open-data", f"/{call.slug}/open-data/")
    get("release-1", f"/{call.slug}/open-data/releases/1/")
    get("contribution", f"/{call.slug}/contributions/{public_id}/")
    contributor = Client()
    opened = contributor.get(urlsplit(status_link_url(sent)).path, follow=True)
    pages["status"] = opened.content.decode()
    refused = contributor.post(
        f"/{call.slug}/status/",
        {"action": "credit", "credit-name": "", "credit-orcid": "0000-0002-1825-0098"},
    )
    pages["status-error"] = refused.content.decode()
    pages["status-two-co-contributors"] = contributor.get(f"/{call.slug}/status/?co=2").text
    # "Lost your link?", and the page of a link whose submission was erased.
    lost = Client()
    get("status-link-request", f"/{call.slug}/status/new-link/")
    pages["status-link-request-error"] = lost.post(
        f"/{call.slug}/status/new-link/", {"email": "not\x00an address"}
    ).text
    lost.post(f"/{call.slug}/status/new-link/", {"email": ABOUT["email"]})
    pages["status-link-sent"] = lost.get(f"/{call.slug}/status/new-link/sent/").text
    erased = make_submission(call)
    erased_link = urlsplit(status_link_url(erased)).path
    erased.delete()
    pages["status-erased"] = Client().get(erased_link, follow=True).text
    # Withdrawn: its page says it is no longer published.
    Submission.objects.get(pk=sent.pk).request_withdrawal()
    take_down(sent)
    pages["contribution-gone"] = client.get(
        f"/{call.slug}/contributions/{public_id}/"
    ).content.decode()
    for page in ("accessibility", "cookies", "privacy"):
        get(page, f"/{page}/")
    declining = Client()
    declining.post(url(call, "consent"), {"consent": "no"})
    get("declined", url(call, "declined"))
    get("not-found", "/no-such-call/")
    forged = Client(enforce_csrf_checks=True)
    pages["csrf"] = forged.post(url(call, "consent"), {"consent": "yes"}).content.decode()
    pages.update(link_pages(call))
    # A staff preview of a call not yet public, then the list of calls, now that there are two.
    unpublished = make_call(published=False, summary_heading="Why we are asking")
    staff = Client()
    staff.force_login(make_call_manager())
    get_preview = staff.get(f"/admin/submissions/call/{unpublished.pk}/preview/")
    pages["call-preview"] = get_preview.content.decode()
    make_call(title="What Works: Podcasts")
    get("home-two-calls", "/")
    for template in ("403.html", "413.html", "500.html", "503.html"):
        pages[template.removesuffix(".html")] = render_to_string(template, {"limit": "60 MB"})
    return pages


def link_pages(call: Call) -> dict[str, str]:
    """A link opened: the page that asks (with answers of the browser's own too), and what the
    browser that held the draft sees once another has it."""
    owner, holding, stranger = Client(), Client(), Client()
    walk_to(owner, call, "evidence")
    draft = Submission.objects.filter(state=Submission.State.DRAFT).latest("pk")
    walk_to(holding, call, "about")
    token = ContributorLink.issue(draft, ContributorLink.Purpose.RESUME, sent_to=ABOUT["email"])
    link = f"/{call.slug}/return/{token}/"
    pages = {}
    holding.get(link)
    pages["link-keep-or-continue"] = holding.get(f"/{call.slug}/return/").content.decode()
    stranger.get(link)
    pages["link-continue"] = stranger.get(f"/{call.slug}/return/").content.decode()
    stranger.post(f"/{call.slug}/return/")
    elsewhere = f"/{call.slug}/continued-elsewhere/"
    pages["continued-elsewhere"] = owner.get(elsewhere).content.decode()
    owner.post(elsewhere)
    pages["continued-elsewhere-sent"] = owner.get(elsewhere).content.decode()
    pages["start-continued-elsewhere"] = owner.get(url(call, "start")).content.decode()
    return pages


def _no_answers(call: Call) -> dict[str, str]:
    return {f"answer_{q.pk}": "" for q in call.questions.all()}


def closed_page() -> str:
    london = ZoneInfo("Europe/London")
    call = make_call(closes_at=datetime(2018, 3, 6, 23, 59, tzinfo=london))
    with time_machine.travel(datetime(2018, 3, 7, 9, 0, tzinfo=london), tick=False):
        return Client().get(url(call, "closed")).content.decode()


def test_every_page_and_error_state_is_valid_html(seeded_call, tmp_path):
    command = checker()
    folder = tmp_path / "pages"
    folder.mkdir()
    pages = journey_pages(seeded_call)
    pages["closed"] = closed_page()
    hostile = every_form_with_hostile_values(make_call())
    # Each hostile page is the form shown again with its errors, or where a form leads.
    assert sum("Error: " in html for html in hostile.values()) >= len(hostile) // 2
    pages |= hostile
    # Each page is the one named, not a redirect's target or a "not found".
    assert "This will delete your answers" in pages["delete-answers"]
    assert "Included in the toolkit" in pages["status"]
    assert "Error: " in pages["status-error"] and "Error: " in pages["save-error"]
    assert ABOUT["name"] in pages["credits"] and ABOUT["name"] in pages["contribution"]
    assert "Preview for staff" in pages["call-preview"]
    assert "Closed, still taking late evidence" in pages["home-two-calls"]
    assert "This submission has been erased" in pages["status-erased"]
    assert "have been restored" in pages["answers-restored"]
    assert "Error: " in pages["status-link-request-error"]
    assert "This contribution is no longer published" in pages["contribution-gone"]
    assert "This browser already has answers" in pages["link-keep-or-continue"]
    assert "Continue in this browser" in pages["link-continue"]
    assert "We have sent a link" in pages["continued-elsewhere-sent"]
    assert "What came of" in pages["outcome"] and "Videos." in pages["outcome"]
    assert "/contributions/" in pages["outcome"]  # the credits and the note link its page
    assert ABOUT["name"] in pages["pack"]
    for name, html in pages.items():
        assert html.lstrip().lower().startswith("<!doctype html>"), name
        (folder / f"{name}.html").write_text(html, encoding="utf-8")

    result = subprocess.run(  # noqa: S603 (our own jar, on files we wrote)
        [*command, "--errors-only", "--format", "json", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = json.loads(result.stderr)["messages"]
    problems = [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']} | {m.get('extract')!r}"
        for m in messages
    ]
    assert problems == [], "\n".join(problems)
    assert len(list(folder.glob("*.html"))) == len(pages) >= 40


def pack_pdf_pages(call: Call) -> dict[str, str]:
    """The pack's PDF page in each state, and the two screens with its button, as staff see them."""
    from datetime import timedelta

    from django.urls import reverse

    from submissions.models import SynthesisPackPdf
    from submissions.publishing.pack_file import request_pdf

    from ..factories import make_call_manager, make_submission
    from ..worker import run_worker

    client = Client()
    client.force_login(make_call_manager())
    page = reverse("admin:submissions_call_pack_pdf", args=[call.pk])
    pages: dict[str, str] = {}

    def get(name: str, path: str = page) -> None:
        response = client.get(path)
        assert response.status_code == 200, name
        pages[name] = response.content.decode()

    make_submission(call, review_status=Submission.ReviewStatus.INCLUDED)
    get("pdf-none")
    pdf, _ = request_pdf(call, by_name="Bob")
    get("pdf-waiting")
    get("pdf-waiting-still", page + "?updates=off")
    get("outcome-screen", reverse("admin:submissions_call_outcome", args=[call.pk]))
    SynthesisPackPdf.claim(pdf.pk, str(pdf.job))
    get("pdf-making")
    pdf.record_failure(str(pdf.job), "OSError: <disk> full & more")
    get("pdf-failed")
    request_pdf(call, by_name="Bob", again=True)
    run_worker()
    get("pdf-ready")
    make_submission(call, review_status=Submission.ReviewStatus.INCLUDED)
    get("pdf-ready-out-of-date")
    get("pack-options", reverse("admin:submissions_call_pack", args=[call.pk]))
    Submission.objects.filter(call=call).order_by("pk").first().request_withdrawal()
    get("pdf-deleted")
    pdf, _ = request_pdf(call, by_name="Bob")
    with time_machine.travel(timezone_now() + timedelta(minutes=30)):
        get("pdf-stalled")
    return pages


def timezone_now():
    from django.utils import timezone

    return timezone.now()


def test_the_pack_pdf_page_is_valid_html_in_every_state(seeded_call, tmp_path):
    command = checker()
    folder = tmp_path / "staff"
    folder.mkdir()
    pages = pack_pdf_pages(seeded_call)
    expected = {
        "pdf-none": "No PDF made yet",
        "pdf-waiting": "Waiting for the worker",
        "pdf-waiting-still": "no longer updates itself",
        "pdf-making": "Being prepared",
        "pdf-failed": "&lt;disk&gt; full &amp; more",
        "pdf-ready": "<h2>Ready</h2>",
        "pdf-ready-out-of-date": "Out of date:",
        "pdf-deleted": "<h2>Deleted</h2>",
        "pdf-stalled": "It seems to have stopped",
    }
    for name, text in expected.items():
        assert text in pages[name], name
    for name, html in pages.items():
        (folder / f"{name}.html").write_text(html, encoding="utf-8")

    result = subprocess.run(  # noqa: S603 (our own jar, on files we wrote)
        [*command, "--errors-only", "--format", "json", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = json.loads(result.stderr)["messages"]
    problems = [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']} | {m.get('extract')!r}"
        for m in messages
    ]
    assert problems == [], "\n".join(problems)

"""Calls kept apart on every staff page: a reviewer of one call opens every admin URL there is,
with the ids of another call's objects, and reads nothing of that call; and sends every form a
member of staff can send about that call (send an email again, redact, publish a release, mark
the toolkit published, a synthesis note, the pack and its PDF, a review decision, a bulk action,
an export, an erasure) and changes nothing of it.

The URLs come from the admin site itself, so a page added later is walked too; a staff page
added later that takes a POST must be added to STAFF_POSTS (or GET_ONLY) below, or the
test of the list fails.
"""

import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, resolve, reverse
from django.utils import timezone

from submissions.models import (
    ExportRecord,
    OutgoingEmail,
    Redaction,
    Submission,
    SynthesisNote,
    SynthesisPackPdf,
    Theme,
)
from tests.factories import (
    assign,
    make_attachment,
    make_call,
    make_reviewer,
    make_submission,
    make_superuser,
)
from tests.publishing.helpers import publish

pytestmark = pytest.mark.django_db

# What only the other call's pages could show: its title, its contributor, the credit line,
# the answer, the reference (added per test), and a theme used only there.
SECRETS = [
    "Theirs: a call hidden",
    "Zeta Otherone",
    "Hidden Org Ltd",
    "Their secret answer",
    "Their synthesis note",
    "Their redaction note",
]


@pytest.fixture
def world():
    mine = make_call(title="Mine: What Works 2027", questions=1)
    theirs = make_call(title=SECRETS[0], questions=1, published=False, credits_hidden=True)
    shared, only_theirs = Theme.objects.create(name="Shared"), Theme.objects.create(name="Tq")
    own = make_submission(mine, name="Own Person", review_status="included")
    own.themes.set([shared])
    # A draft of my call: reviewers never see drafts, and no count includes one.
    draft = make_submission(mine, state=Submission.State.DRAFT, name="Drafty")
    draft.themes.set([shared])
    other = make_submission(
        theirs,
        name="Zeta Otherone",
        organisation="Hidden Org Ltd",
        review_status="included",
        answers={str(theirs.questions.get().pk): "Their secret answer"},
    )
    other.themes.set([shared, only_theirs])
    attachment = make_attachment(other, original_name="theirs.pdf")
    email = OutgoingEmail.objects.create(
        kind=OutgoingEmail.Kind.RECEIPT,
        call=theirs,
        submission=other,
        to="zeta@example.org",
        message_id="theirs@example.org",
    )
    export = ExportRecord.objects.create(
        username="bob", source="admin_all_matching", filters={"call__id__exact": str(theirs.pk)}
    )
    export.complete(1)
    note = SynthesisNote.objects.create(call=theirs, theme=only_theirs, text="Their synthesis note")
    note.informed_by.set([other])
    redaction = Redaction.objects.create(
        submission=other,
        part=Redaction.answer_part(theirs.questions.get()),
        text="secret",
        reason="other",
        note="Their redaction note",
    )
    # Their synthesis pack's PDF, made and stored: its page and its download are theirs only.
    pdf = SynthesisPackPdf.objects.create(
        call=theirs, state=SynthesisPackPdf.State.READY, contributions=[other.pk]
    )
    pdf.file.save("pack.pdf", ContentFile(b"%PDF-1.7 Zeta Otherone, Hidden Org Ltd"), save=True)
    alice = make_reviewer()
    assign(alice, mine)
    # Their call's form as its page fills it in, for a superuser: what a POST would send.
    superuser = Client()
    superuser.force_login(make_superuser("root"))
    page = superuser.get(reverse("admin:submissions_call_change", args=[theirs.pk]))
    call_form = form_data(page, "call_form")
    return {
        "call_form": call_form,
        "mine": mine,
        "theirs": theirs,
        "own": own,
        "other": other,
        "attachment": attachment,
        "email": email,
        "export": export,
        "only_theirs": only_theirs,
        "alice": alice,
        "redaction": redaction,
    }


class FormReader(HTMLParser):
    """The values a browser would send from the page's form of this id."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.data: dict[str, list[str]] = {}
        self.depth = 0  # 1 inside the form
        self.done = False
        self.select: str | None = None
        self.textarea: str | None = None

    def add(self, name: str | None, value: str) -> None:
        if name:
            self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.done and a.get("id") == self.form_id:
            self.depth = 1
        if not self.depth:
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file", "image", "reset"):
                self.add(a.get("name"), a.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select and "selected" in a:
            self.add(self.select, a.get("value", ""))
        elif tag == "textarea":
            self.textarea = a.get("name")
            self.add(self.textarea, "")

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form" and self.depth:
            self.depth, self.done = 0, True
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            if self.textarea and self.data[self.textarea][-1].startswith("\n"):
                self.data[self.textarea][-1] = self.data[self.textarea][-1][1:]
            self.textarea = None


def form_data(response, form_id: str) -> dict[str, list[str]]:
    assert response.status_code == 200
    reader = FormReader(form_id)
    reader.feed(response.content.decode())
    assert reader.done and reader.data
    return reader.data


def admin_routes(patterns=None, prefix: str = "") -> list[str]:
    """Every route of the admin site as a pattern string, e.g. "submissions/call/<int:pk>/"."""
    patterns = admin.site.urls[0] if patterns is None else patterns
    routes = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes += admin_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            routes.append(route)
    return routes


def concrete(route: str, world: dict) -> list[str]:
    """The URLs a route gives with the other call's ids (and a few of the reviewer's own)."""
    if route.startswith("^"):
        # The app index, and the catch-all that redirects unknown paths.
        if "app_label" in route:
            return [f"/admin/{label}/" for label in ("submissions", "auth", "axes")]
        return ["/admin/submissions/submission/nothing-here/"]
    model_ids = {
        "submissions/submission/": world["other"].pk,
        "submissions/call/": world["theirs"].pk,
        "submissions/theme/": world["only_theirs"].pk,
        "submissions/outgoingemail/": world["email"].pk,
        "submissions/exportrecord/": world["export"].pk,
    }
    if "<int:content_type_id>" in route:
        # The admin's "view on site" redirect, for each object of the other call.
        found = [
            (world[key], key)
            for key in ("other", "theirs", "attachment", "email", "only_theirs", "export")
        ]
        return [
            f"/admin/r/{ContentType.objects.get_for_model(obj).pk}/{obj.pk}/" for obj, _ in found
        ]
    object_id = next((pk for model, pk in model_ids.items() if route.startswith(model)), None)
    if object_id is None:
        object_id = world["alice"].pk  # auth, axes: not the reviewer's to open anyway
    url = re.sub(r"<(?:path|int|str):object_id>", str(object_id), route)
    url = re.sub(r"<int:theme_id>", str(world["only_theirs"].pk), url)
    url = re.sub(r"<int:redaction_id>", str(world["redaction"].pk), url)
    url = re.sub(r"<[^>]+>", "1", url)
    return ["/admin/" + url]


@pytest.mark.parametrize("permissions", ["the Reviewers group", "every permission but every call"])
def test_a_reviewer_of_one_call_reads_nothing_of_another_on_any_admin_url(
    client, world, permissions
):
    alice = world["alice"]
    if permissions == "every permission but every call":
        # However wide a reviewer's permissions, the calls stay apart.
        alice.user_permissions.add(
            *Permission.objects.filter(content_type__app_label="submissions").exclude(
                codename="review_every_call"
            )
        )
    client.force_login(alice)
    secrets = [*SECRETS, world["other"].reference, "theirs.pdf", "zeta@example.org"]
    routes = admin_routes()
    assert len(routes) > 40  # the admin's own pages and ours, each model's five, the extras
    assert any("acknowledgements" in route for route in routes)

    walked = 0
    for route in routes:
        for url in concrete(route, world):
            # Followed to the end: a redirect may lead to a page that shows what this one hid.
            response = client.get(url, follow=True)
            walked += 1
            assert response.status_code in (200, 403, 404, 405), (url, response.status_code)
            data = b"".join(response.streaming_content) if response.streaming else response.content
            body = data.decode(errors="replace")  # a page, or an export (a CSV)
            for secret in secrets:
                assert secret not in body, (url, secret)
            for target, _ in response.redirect_chain:
                assert world["theirs"].slug not in target, (url, target)
    assert walked > 50


def test_the_themes_list_counts_only_submitted_work_of_the_reviewers_calls(client, world):
    client.force_login(world["alice"])

    response = client.get(reverse("admin:submissions_theme_changelist"))

    counts = {theme.name: theme.submission_count for theme in response.context["cl"].result_list}
    # "Shared" is on my submitted one, my draft and theirs: mine alone counts.
    assert counts == {"Shared": 1, "Tq": 0}


def test_a_call_manager_counts_every_calls_submitted_work_and_no_draft(client, world):
    from tests.factories import make_call_manager

    client.force_login(make_call_manager())

    response = client.get(reverse("admin:submissions_theme_changelist"))

    counts = {theme.name: theme.submission_count for theme in response.context["cl"].result_list}
    assert counts == {"Shared": 2, "Tq": 1}


def test_the_acknowledgements_of_another_call_are_not_found(client, world):
    client.force_login(world["alice"])

    own = client.get(reverse("admin:submissions_call_acknowledgements", args=[world["mine"].pk]))
    other = client.get(
        reverse("admin:submissions_call_acknowledgements", args=[world["theirs"].pk])
    )

    assert own.status_code == 200
    assert "Own Person" in own.text
    assert other.status_code == 404
    for secret in [*SECRETS, world["other"].reference]:
        assert secret not in other.text


def test_a_reviewer_sees_only_their_own_exports_and_their_calls_emails(client, world):
    alice = world["alice"]
    alice.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_exportrecord", "view_outgoingemail"])
    )
    mine = ExportRecord.objects.create(user=alice, username="alice", source="admin_selected")
    own_email = OutgoingEmail.objects.create(
        kind=OutgoingEmail.Kind.RECEIPT,
        call=world["mine"],
        submission=world["own"],
        to="own@example.org",
        message_id="own@example.org",
        created_at=timezone.now(),
    )
    client.force_login(alice)

    exports = client.get(reverse("admin:submissions_exportrecord_changelist"))
    emails = client.get(reverse("admin:submissions_outgoingemail_changelist"))

    assert [r.pk for r in exports.context["cl"].result_list] == [mine.pk]
    assert [e.pk for e in emails.context["cl"].result_list] == [own_email.pk]


# --- Forms sent about another call -----------------------------------------------------------

# The staff pages our admin adds (get_urls) that only show or download: a POST to them is
# walked too (below), but there is no form to fill.
GET_ONLY = {
    "submissions_call_preview",
    "submissions_call_pack_print",
    "submissions_call_pack_pdf_file",
    "submissions_call_acknowledgements",
    "submissions_call_acknowledgements_download",
}


def staff_posts(world: dict) -> list[tuple[str, str, dict]]:
    """Every form a member of staff can send about the other call, filled in as the page would
    have it: (what it does, URL, data). test_each_form_about_another_call_changes_it_when_allowed
    shows that each one changes the database when someone allowed sends it."""
    theirs, other, theme = world["theirs"], world["other"], world["only_theirs"]
    question = theirs.questions.get()
    outcome = reverse("admin:submissions_call_outcome", args=[theirs.pk])
    change = reverse("admin:submissions_submission_change", args=[other.pk])
    decision = {
        "review_status": "not_included",
        "themes": [theme.pk],
        "reviewer_notes": "Decided by someone else",
        "assigned_reviewer": "",
    }
    return [
        (
            "send an email again",
            reverse("admin:submissions_outgoingemail_send_again", args=[world["email"].pk]),
            {},
        ),
        (
            "redact words of an answer",
            reverse("admin:submissions_submission_redactions", args=[other.pk]),
            {
                "part": Redaction.answer_part(question),
                "text": "secret",
                "reason": Redaction.Reason.THIRD_PARTY,
                "note": "",
            },
        ),
        (
            "remove a redaction",
            reverse(
                "admin:submissions_submission_remove_redaction",
                args=[other.pk, world["redaction"].pk],
            ),
            {},
        ),
        (
            "publish a release",
            reverse("admin:submissions_call_releases", args=[theirs.pk]),
            {"number": "1", "notes": "The first release", "checked": "on"},
        ),
        ("publish the outcome page", outcome, {"action": "publish_outcome"}),
        (
            "mark the toolkit published",
            outcome,
            {
                "action": "toolkit",
                "toolkit_url": "https://example.org/toolkit",
                "thank_other_contributors": "on",
            },
        ),
        (
            "choose the pack's themes",
            reverse("admin:submissions_call_pack", args=[theirs.pk]),
            {"include_shortlisted": "on", f"theme_{theme.pk}": "on", f"order_{theme.pk}": "1"},
        ),
        (
            "ask for the pack's PDF again",
            reverse("admin:submissions_call_pack_pdf", args=[theirs.pk]),
            {"action": "again"},
        ),
        (
            "write a synthesis note",
            reverse("admin:submissions_call_note", args=[theirs.pk, theme.pk]),
            {"text": "Rewritten by someone else", "informed_by": [other.pk], "published": "on"},
        ),
        ("decide on a submission", change, {**decision, "_continue": "Save"}),
        ("decide and review next", change, {**decision, "_review_next": "Save and review next"}),
        (
            "erase a submission",
            reverse("admin:submissions_submission_delete", args=[other.pk]),
            {"post": "yes"},
        ),
        (
            "change the call",
            reverse("admin:submissions_call_change", args=[theirs.pk]),
            {**world["call_form"], "title": "Renamed by someone else", "_continue": "Save"},
        ),
    ]


def list_posts(world: dict) -> list[tuple[str, str, dict]]:
    """The list's bulk actions and the export, with the other call's submission selected or
    filtered on: the list is the reviewer's own, so it answers, but acts on nothing of theirs."""
    changelist = reverse("admin:submissions_submission_changelist")
    picked = {"_selected_action": [world["other"].pk], "index": "0", "select_across": "0"}
    return [
        ("set a status from the list", changelist, {**picked, "action": "set_status_not_included"}),
        ("assign to me from the list", changelist, {**picked, "action": "assign_to_me"}),
        ("export the selected", changelist, {**picked, "action": "export_csv"}),
        (
            "export all matching",
            reverse("admin:submissions_submission_export")
            + f"?call__id__exact={world['theirs'].pk}",
            {},
        ),
    ]


def database(own_exports_of=None) -> dict[str, list[dict]]:
    """Every row of every table but the sessions', as values. The records of the exports a
    reviewer makes of their own list (`own_exports_of`) are left out: what those exports hold
    is checked from their bodies."""
    rows = {}
    for model in apps.get_models():
        if model._meta.label == "sessions.Session":
            continue
        found = model._default_manager.order_by("pk")
        if model is ExportRecord and own_exports_of is not None:
            found = found.exclude(user=own_exports_of)
        rows[model._meta.label] = list(found.values())
    return rows


def body_of(response) -> str:
    data = b"".join(response.streaming_content) if response.streaming else response.content
    return data.decode(errors="replace")


def as_reviewer(client, world: dict, permissions: str):
    alice = world["alice"]
    if permissions == "every permission but every call":
        alice.user_permissions.add(
            *Permission.objects.filter(content_type__app_label="submissions").exclude(
                codename="review_every_call"
            )
        )
    client.force_login(alice)
    return alice


def test_every_post_only_staff_page_is_sent_a_form(world):
    """The list above covers every staff page our admin adds: a new one is sent a form here or
    is named as one that only shows."""
    posted = {resolve(url.split("?")[0]).url_name for _, url, _ in staff_posts(world)}
    ours = {
        pattern.name
        for pattern in all_patterns()
        if pattern.name
        and pattern.name.startswith("submissions_")
        and not pattern.name.endswith(("_changelist", "_add", "_history", "_delete", "_change"))
    }
    assert ours - posted - GET_ONLY - {"submissions_submission_export"} == set()
    assert ours >= GET_ONLY


def all_patterns(patterns=None) -> list[URLPattern]:
    patterns = admin.site.urls[0] if patterns is None else patterns
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += all_patterns(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            found.append(pattern)
    return found


@pytest.mark.parametrize("permissions", ["the Reviewers group", "every permission but every call"])
def test_a_reviewer_of_one_call_changes_nothing_of_another_by_any_form(client, world, permissions):
    alice = as_reviewer(client, world, permissions)
    secrets = [*SECRETS, world["other"].reference, "theirs.pdf", "zeta@example.org"]
    before = database(own_exports_of=alice)

    for what, url, data in staff_posts(world):
        response = client.post(url, data)
        # Refused outright: not found (another call's), or not allowed (not this role's).
        assert response.status_code in (403, 404), (what, url, response.status_code)
        for secret in secrets:
            assert secret not in body_of(response), (what, secret)
    for what, url, data in list_posts(world):
        response = client.post(url, data)
        assert response.status_code in (200, 302, 403), (what, url, response.status_code)
        for secret in secrets:
            assert secret not in body_of(response), (what, secret)
    # And an empty POST to every admin URL there is (logging out aside).
    for route in admin_routes():
        for url in concrete(route, world):
            if url == "/admin/logout/":
                continue
            response = client.post(url, {})
            assert response.status_code in (200, 302, 403, 404, 405), (url, response.status_code)
            for secret in secrets:
                assert secret not in body_of(response), (url, secret)

    assert database(own_exports_of=alice) == before


@pytest.mark.parametrize("index", range(17))
def test_each_form_about_another_call_changes_it_when_allowed(client, world, index):
    """The forms above are real: sent by a superuser, each changes the database. (Otherwise
    "nothing changed" above would prove nothing.)"""
    posts = staff_posts(world) + list_posts(world)
    assert len(posts) == 17
    what, url, data = posts[index]
    carol = make_superuser()
    client.force_login(carol)
    if what == "mark the toolkit published":
        # Refused before the call's first release (the outcome issue): publish one first.
        publish(world["theirs"])
    before = database()

    response = client.post(url, data)

    assert response.status_code in (200, 302), (what, response.status_code)
    assert database() != before, what


def test_an_export_record_does_not_name_a_call_its_exporter_does_not_review(client, world):
    """A reviewer who types another call's id in the export's filter exports nothing of it,
    and the record of that export does not name the call (it did before: its title showed)."""
    alice = world["alice"]
    alice.user_permissions.add(
        *Permission.objects.filter(codename__in=["export_submissions", "view_exportrecord"])
    )
    client.force_login(alice)
    theirs = world["theirs"]

    export = client.get(
        reverse("admin:submissions_submission_export") + f"?call__id__exact={theirs.pk}"
    )
    records = client.get(reverse("admin:submissions_exportrecord_changelist"))

    assert export.status_code == 200
    assert "Zeta Otherone" not in body_of(export)
    mine = ExportRecord.objects.get(user=alice)
    assert mine.row_count == 0
    assert f"Call: {theirs.pk}, not a call alice reviews" in records.text
    detail = client.get(reverse("admin:submissions_exportrecord_change", args=[mine.pk]))
    assert f"{theirs.pk}, not a call alice reviews" in detail.text
    for page in (records, detail):
        assert theirs.title not in page.text

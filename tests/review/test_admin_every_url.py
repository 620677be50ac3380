"""Calls kept apart on every staff page: a reviewer of one call opens every admin URL there is,
with the ids of another call's objects, and reads nothing of that call.

The URLs come from the admin site itself, so a page added later is walked too.
"""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, reverse
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
from tests.factories import assign, make_attachment, make_call, make_reviewer, make_submission

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
        submission=other, part="answers", text="secret", reason="other", note="Their redaction note"
    )
    # Their synthesis pack's PDF, made and stored: its page and its download are theirs only.
    pdf = SynthesisPackPdf.objects.create(
        call=theirs, state=SynthesisPackPdf.State.READY, contributions=[other.pk]
    )
    pdf.file.save("pack.pdf", ContentFile(b"%PDF-1.7 Zeta Otherone, Hidden Org Ltd"), save=True)
    alice = make_reviewer()
    assign(alice, mine)
    return {
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

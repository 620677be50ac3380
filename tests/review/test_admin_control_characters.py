"""Control characters typed (or pasted) by staff are refused at the field, as in the public
forms: a NUL, which PostgreSQL cannot store, and the other C0 controls but tab, line feed and
carriage return (C1 ones too). Saved, one would break what shows it: the releases' Atom feed
(XML 1.0 has no place for them), the pages (HTML forbids them), the CSV and the emails. The
page shown again with the error holds U+FFFD where the character was, never the character."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from submissions.models import Question, Redaction, Release, Submission, SynthesisNote, Theme
from submissions.review.admin.staff_forms import StaffTextMixin

from ..factories import make_call_manager, make_reviewer, make_submission, make_superuser
from .test_admin_calls_apart import form_data

pytestmark = pytest.mark.django_db
INCLUDED = Submission.ReviewStatus.INCLUDED
REFUSED = "must not contain control characters; retype it rather than pasting it"
# A NUL (Django's own message, as in the public forms), a backspace, a vertical tab, an escape
# and a C1 control.
CHARACTERS = {
    "\x00": "nul",
    "\x08": "backspace",
    "\x0b": "vertical tab",
    "\x1b": "escape",
    "\x9b": "C1",
}


def message(label: str, character: str) -> str:
    return "Null characters are not allowed." if character == "\x00" else f"{label} {REFUSED}"


def assert_refused_at(response, field_id: str, text: str) -> str:
    """The page again (not saved, not a server error), with `text` in the field's own error
    list, and no control character in it: U+FFFD in their place."""
    assert response.status_code == 200
    page = response.content.decode()
    found = re.search(rf'<ul class="errorlist" id="{field_id}_error">(.*?)</ul>', page, re.S)
    assert found is not None, f"no error at {field_id}"
    assert text in found.group(1)
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", page)
    assert "\ufffd" in page
    return page


def assert_each_refused(client: Client, change: str, character: str, values: list) -> None:
    """The change page's form, saved with each (field, label, value) in turn: refused at it."""
    data = form_data(client.get(change).content.decode()) | {"_save": "Save"}
    for field, label, value in values:
        response = client.post(change, data | {field: value})
        assert_refused_at(response, f"id_{field}", message(label, character))


@pytest.fixture
def bob(seeded_call) -> Client:
    """A call manager: may change calls and themes, redact, write notes and publish."""
    client = Client()
    client.force_login(make_call_manager())
    return client


@pytest.fixture
def carol() -> Client:
    """A superuser: may add and change users and groups."""
    client = Client()
    client.force_login(make_superuser())
    return client


@pytest.fixture
def included(seeded_call) -> Submission:
    first = seeded_call.questions.order_by("position").first()
    return make_submission(
        seeded_call, name="Ana Jones", review_status=INCLUDED, answers={str(first.pk): "Words"}
    )


@pytest.mark.parametrize("character", CHARACTERS, ids=CHARACTERS.values())
def test_a_theme_name(bob, character):
    response = bob.post(
        reverse("admin:submissions_theme_add"), {"name": f"Too{character}ls", "_save": "Save"}
    )

    assert_refused_at(response, "id_name", message("Name", character))
    assert not Theme.objects.exists()


@pytest.mark.parametrize("character", CHARACTERS, ids=CHARACTERS.values())
def test_a_calls_title_summary_and_question(bob, seeded_call, character):
    change = reverse("admin:submissions_call_change", args=[seeded_call.pk])
    title, summary = seeded_call.title, seeded_call.summary
    question = seeded_call.questions.order_by("position").first()

    typed = [
        ("title", "Title", f"What{character} works"),
        ("summary", "Summary", f"Last year{character}, the NCCPE"),
        ("questions-0-text", "Text", f"What practice{character}?"),
    ]
    assert_each_refused(bob, change, character, typed)

    seeded_call.refresh_from_db()
    assert (seeded_call.title, seeded_call.summary) == (title, summary)
    assert Question.objects.get(pk=question.pk).text == question.text


def test_a_title_the_models_own_rule_refuses_gets_one_message(bob, seeded_call):
    # A direction override is a control character and, in a one-line value, an invisible one.
    change = reverse("admin:submissions_call_change", args=[seeded_call.pk])
    data = form_data(bob.get(change).content.decode()) | {"_save": "Save"}

    response = bob.post(change, data | {"title": "Evidence\u202eecnedive"})

    assert response.status_code == 200
    page = response.content.decode()
    found = re.search(r'<ul class="errorlist" id="id_title_error">(.*?)</ul>', page, re.S)
    assert found is not None
    assert found.group(1).count("<li>") == 1
    assert "This field must not contain invisible or direction-changing" in found.group(1)


@pytest.mark.parametrize("character", CHARACTERS, ids=CHARACTERS.values())
def test_a_reviewers_note(bob, included, character):
    change = reverse("admin:submissions_submission_change", args=[included.pk])
    data = form_data(bob.get(change).content.decode()) | {"_save": "Save"}

    response = bob.post(change, data | {"reviewer_notes": f"Check{character} the link"})

    assert_refused_at(response, "id_reviewer_notes", message("Reviewer notes", character))
    included.refresh_from_db()
    assert included.reviewer_notes == ""


def test_a_reviewers_note_keeps_its_tabs_and_line_breaks(bob, included):
    change = reverse("admin:submissions_submission_change", args=[included.pk])
    data = form_data(bob.get(change).content.decode()) | {"_save": "Save"}

    response = bob.post(change, data | {"reviewer_notes": "Check:\r\n\tthe link"})

    assert response.status_code == 302
    included.refresh_from_db()
    assert included.reviewer_notes == "Check:\r\n\tthe link"


@pytest.mark.parametrize("character", CHARACTERS, ids=CHARACTERS.values())
def test_a_redactions_note(bob, seeded_call, included, character):
    question = seeded_call.questions.order_by("position").first()
    redactions = reverse("admin:submissions_submission_redactions", args=[included.pk])
    data = {"part": Redaction.answer_part(question), "text": "Words", "reason": "other"}

    response = bob.post(redactions, data | {"note": f"A{character} name"})

    assert_refused_at(response, "id_note", message("The note", character))
    assert not Redaction.objects.exists()


@pytest.mark.parametrize("character", CHARACTERS, ids=CHARACTERS.values())
def test_a_synthesis_note(bob, seeded_call, character):
    theme = Theme.objects.create(name="Tools")
    note = reverse("admin:submissions_call_note", args=[seeded_call.pk, theme.pk])

    response = bob.post(note, {"text": f"Videos{character} work."})

    assert_refused_at(response, "id_text", message("What the event learned", character))
    assert not SynthesisNote.objects.exists()


@pytest.mark.parametrize("character", CHARACTERS, ids=CHARACTERS.values())
def test_a_releases_notes(bob, seeded_call, included, character):
    releases = reverse("admin:submissions_call_releases", args=[seeded_call.pk])
    data = {"number": "1", "checked": "on"}

    response = bob.post(releases, data | {"notes": f"First{character} release."})

    assert_refused_at(response, "id_notes", message("What changed", character))
    assert not Release.objects.exists()
    # Published with notes a person typed, the feed shows them.
    assert bob.post(releases, data | {"notes": "First release.\r\n\tAll of it."}).status_code == 302
    feed = bob.get(reverse("releases_feed", args=[seeded_call.slug]))
    assert feed.status_code == 200 and "First release." in feed.content.decode()


@pytest.mark.parametrize("character", CHARACTERS, ids=CHARACTERS.values())
def test_a_users_names_and_email(carol, character):
    alice = make_reviewer(first_name="Alice", last_name="Smith", email="alice@example.org")
    change = reverse("admin:auth_user_change", args=[alice.pk])

    typed = [
        ("first_name", "First name", f"Al{character}ice"),
        ("last_name", "Last name", f"Sm{character}ith"),
        ("email", "Email address", f"alice{character}@example.org"),
        ("username", "Username", f"al{character}ice"),
    ]
    assert_each_refused(carol, change, character, typed)

    alice.refresh_from_db()
    assert (alice.username, alice.first_name, alice.last_name, alice.email) == (
        "alice",
        "Alice",
        "Smith",
        "alice@example.org",
    )


@pytest.mark.parametrize("character", CHARACTERS, ids=CHARACTERS.values())
def test_a_new_users_username(carol, character):
    password = "a long pass phrase 4 reviewing"
    data = {"usable_password": "true", "password1": password, "password2": password}

    response = carol.post(reverse("admin:auth_user_add"), data | {"username": f"fr{character}ank"})

    assert_refused_at(response, "id_username", message("Username", character))
    assert not User.objects.filter(username__startswith="fr").exists()


@pytest.mark.parametrize("character", CHARACTERS, ids=CHARACTERS.values())
def test_a_groups_name(carol, character):
    response = carol.post(reverse("admin:auth_group_add"), {"name": f"Edi{character}tors"})

    assert_refused_at(response, "id_name", message("Name", character))
    assert not Group.objects.filter(name__startswith="Edi").exists()


def test_every_admin_form_staff_type_in_refuses_control_characters():
    """Each ModelAdmin of the app and each of its inlines makes its forms from one that does;
    so do Django's own admins of users (adding one, and changing one) and groups."""
    admins = [
        a
        for m, a in admin.site._registry.items()
        if m._meta.app_label == "submissions" or m in (User, Group)
    ]
    forms = [a.form for a in admins]
    forms += [inline.form for a in admins for inline in a.inlines]
    forms.append(admin.site._registry[User].add_form)
    assert forms and all(issubclass(form, StaffTextMixin) for form in forms), forms

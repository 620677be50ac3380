"""Roles: what Reviewers and Call managers may do in the admin, and what they may not."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.urls import reverse

from submissions.models import Attachment, Submission, Theme
from tests.factories import (
    assign,
    make_attachment,
    make_call,
    make_call_manager,
    make_reviewer,
    make_staff_without_group,
    make_submission,
    make_superuser,
)

pytestmark = pytest.mark.django_db


def change_url(obj) -> str:
    return reverse(f"admin:submissions_{obj._meta.model_name}_change", args=[obj.pk])


def codenames(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return set(group.permissions.values_list("codename", flat=True))


def test_the_migration_creates_reviewers_who_may_read_and_review():
    assert codenames("Reviewers") == {
        "view_submission",
        "change_submission",
        "view_call",
        "view_question",
        "view_theme",
        "add_theme",
    }


def test_the_migration_creates_call_managers_who_may_also_run_calls_export_and_erase():
    assert codenames("Call managers") - codenames("Reviewers") == {
        "delete_submission",
        "export_submissions",
        "view_exportrecord",
        "add_call",
        "change_call",
        "add_question",
        "change_question",
        "delete_question",
        "change_theme",
        "delete_theme",
        # Outgoing emails: see them, retry a failed one, and erase them with a submission.
        "view_outgoingemail",
        "change_outgoingemail",
        "delete_outgoingemail",
        # They assign reviewers to calls, and see every call (migration 0016).
        "review_every_call",
        "view_callreviewer",
        "add_callreviewer",
        "change_callreviewer",
        "delete_callreviewer",
    }


def test_it_lets_a_reviewer_open_the_list_and_a_submission(client):
    submission = make_submission(make_call())
    reviewer = make_reviewer()
    assign(reviewer, submission.call)
    client.force_login(reviewer)

    assert client.get(reverse("admin:submissions_submission_changelist")).status_code == 200
    assert client.get(change_url(submission)).status_code == 200


def test_it_shows_a_reviewer_a_call_without_anything_to_edit(client):
    call = make_call()
    reviewer = make_reviewer()
    assign(reviewer, call)
    client.force_login(reviewer)

    response = client.get(change_url(call))

    assert response.status_code == 200
    assert call.title in response.text
    assert 'name="title"' not in response.text
    assert 'name="_save"' not in response.text


def test_it_refuses_a_reviewers_attempt_to_change_a_call(client):
    call = make_call(title="The real title")
    client.force_login(make_reviewer(every_call=True))

    response = client.post(change_url(call), {"title": "Changed by a reviewer"})

    assert response.status_code == 403
    call.refresh_from_db()
    assert call.title == "The real title"


def test_it_lets_a_call_manager_edit_a_call(client):
    call = make_call()
    client.force_login(make_call_manager())

    response = client.get(change_url(call))

    assert 'name="title"' in response.text
    assert 'name="questions-0-text"' in response.text


def test_it_keeps_a_contributors_words_when_a_reviewer_posts_them(client):
    call = make_call()
    submission = make_submission(call, name="Ada Lovelace", organisation="Analytical Society")
    answers = dict(submission.answers)
    client.force_login(make_reviewer(every_call=True))

    response = client.post(
        change_url(submission),
        {
            "review_status": "in_review",
            "reviewer_notes": "",
            "name": "Someone else",
            "organisation": "Changed",
            "answers": '{"1": "rewritten"}',
            "email": "other@example.org",
        },
    )

    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.review_status == "in_review"
    assert submission.name == "Ada Lovelace"
    assert submission.organisation == "Analytical Society"
    assert submission.answers == answers
    assert submission.email.startswith("contributor")


def test_it_refuses_to_let_a_reviewer_delete_a_submission(client):
    submission = make_submission(make_call())
    client.force_login(make_reviewer(every_call=True))

    url = reverse("admin:submissions_submission_delete", args=[submission.pk])
    response = client.post(url, {"post": "yes"})

    assert response.status_code == 403
    assert Submission.objects.filter(pk=submission.pk).exists()


def test_a_call_manager_erases_a_submission_with_its_stored_files(
    client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    storage = Attachment._meta.get_field("file").storage
    submission = make_submission(make_call())
    name = storage.save("attachments/0123456789abcdef", ContentFile(b"%PDF-1.4"))
    make_attachment(submission, file=name)
    client.force_login(make_call_manager())

    url = reverse("admin:submissions_submission_delete", args=[submission.pk])
    assert client.get(url).status_code == 200
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Submission.objects.filter(pk=submission.pk).exists()
    assert not Attachment.objects.exists()
    assert not storage.exists(name)


def test_call_managers_may_export_and_reviewers_may_not():
    assert make_call_manager().has_perm("submissions.export_submissions")
    assert not make_reviewer(every_call=True).has_perm("submissions.export_submissions")


def test_it_refuses_the_submissions_list_to_staff_outside_both_groups(client):
    client.force_login(make_staff_without_group())

    response = client.get(reverse("admin:submissions_submission_changelist"))

    assert response.status_code == 403


def test_nobody_adds_a_submission_through_the_admin(client):
    client.force_login(make_superuser())

    response = client.get(reverse("admin:submissions_submission_add"))

    assert response.status_code == 403


def test_a_reviewer_may_add_a_theme_while_tagging(client):
    client.force_login(make_reviewer(every_call=True))

    response = client.post(reverse("admin:submissions_theme_add"), {"name": "Podcasts"})

    assert response.status_code == 302
    assert Theme.objects.filter(name="Podcasts").exists()

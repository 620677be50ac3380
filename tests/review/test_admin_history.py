"""Review history: who changed which review field, from what to what, and when."""

import pytest
from django.urls import reverse

from submissions.models import ReviewChange, Submission, Theme
from tests.factories import make_call, make_call_manager, make_reviewer, make_submission

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:submissions_submission_changelist")


def page_url(submission: Submission) -> str:
    return reverse("admin:submissions_submission_change", args=[submission.pk])


def review_form(**changes) -> dict:
    values = {"review_status": "new", "reviewer_notes": "", "assigned_reviewer": "", "themes": []}
    values.update(changes)
    return values


def test_a_reviewer_filters_reads_tags_shortlists_and_sees_it_in_the_history(client):
    call = make_call()
    wanted = make_submission(call, name="Ada Lovelace")
    make_submission(call, review_status=Submission.ReviewStatus.NOT_INCLUDED)
    podcasts = Theme.objects.create(name="Podcasts")
    make_reviewer(every_call=True, first_name="Alice", last_name="Smith")

    # Signs in through the login page, as a person would.
    response = client.post(
        reverse("admin:login"), {"username": "alice", "password": "correct horse"}
    )
    assert response.status_code == 302

    response = client.get(LIST_URL, {"review_status__exact": "new"})
    assert [s.pk for s in response.context["cl"].result_list] == [wanted.pk]

    response = client.get(page_url(wanted))
    assert "Ada Lovelace" in response.text

    response = client.post(
        page_url(wanted),
        review_form(review_status="shortlisted", themes=[podcasts.pk], reviewer_notes="Strong."),
    )
    assert response.status_code == 302

    wanted.refresh_from_db()
    assert wanted.review_status == "shortlisted"
    assert list(wanted.themes.all()) == [podcasts]
    history = client.get(page_url(wanted)).text.split("Review history")[1]
    assert "<td>Alice Smith</td>" in history
    assert (
        "<td>Review status</td>\n            <td>New</td>\n            <td>Shortlisted</td>"
        in history
    )
    assert "<td>Themes</td>\n            <td>—</td>\n            <td>Podcasts</td>" in history
    assert "<td>Reviewer notes</td>" in history


def test_it_records_each_changed_field_with_before_after_who_and_when(client):
    alice = make_reviewer(every_call=True)
    bob = make_call_manager(first_name="Bob", last_name="Jones")
    video, podcasts = Theme.objects.create(name="Video"), Theme.objects.create(name="Podcasts")
    submission = make_submission(make_call(), reviewer_notes="First look.")
    submission.themes.set([video])
    client.force_login(alice)

    client.post(
        page_url(submission),
        review_form(
            review_status="in_review",
            assigned_reviewer=bob.pk,
            themes=[video.pk, podcasts.pk],
            reviewer_notes="First look.\nWorth a second.",
        ),
    )

    changes = {
        c.field: (c.old_value, c.new_value, c.changed_by, c.changed_by_name)
        for c in ReviewChange.objects.all()
    }
    assert changes == {
        "review_status": ("New", "In review", alice, "alice"),
        "assigned_reviewer": ("", "Bob Jones", alice, "alice"),
        "themes": ("Video", "Podcasts, Video", alice, "alice"),
        "reviewer_notes": ("First look.", "First look.\nWorth a second.", alice, "alice"),
    }


def test_saving_without_changes_records_nothing(client):
    client.force_login(make_reviewer(every_call=True))
    submission = make_submission(make_call())

    response = client.post(page_url(submission), review_form())

    assert response.status_code == 302
    assert not ReviewChange.objects.exists()


def test_the_history_keeps_who_changed_it_after_their_account_goes(client):
    alice = make_reviewer(every_call=True, first_name="Alice", last_name="Smith")
    submission = make_submission(make_call())
    client.force_login(alice)
    client.post(page_url(submission), review_form(review_status="in_review"))
    client.logout()
    alice.delete()

    client.force_login(make_call_manager())
    response = client.get(page_url(submission))

    assert "<td>Alice Smith</td>" in response.text.split("Review history")[1]


def test_bulk_changes_show_in_each_submissions_history(client):
    client.force_login(make_reviewer(every_call=True, first_name="Alice", last_name="Smith"))
    submission = make_submission(make_call())

    client.post(LIST_URL, {"action": "set_status_included", "_selected_action": [submission.pk]})

    history = client.get(page_url(submission)).text.split("Review history")[1]
    assert "<td>New</td>\n            <td>Included in toolkit</td>" in history
    assert "<td>Alice Smith</td>" in history

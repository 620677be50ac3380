"""The submissions list: columns, filters, ordering, bulk actions, and a flat query count."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from submissions.models import ReviewChange, Submission, Theme
from tests.factories import (
    make_attachment,
    make_call,
    make_call_manager,
    make_reviewer,
    make_submission,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")
LIST_URL = reverse("admin:submissions_submission_changelist")


@pytest.fixture
def reviewer(client):
    user = make_reviewer(first_name="Alice", last_name="Reviewer", every_call=True)
    client.force_login(user)
    return user


def listed(response) -> list[str]:
    """The references (or draft labels) of the rows shown, in order."""
    return [
        str(obj) if obj.reference else f"(draft {obj.pk})"
        for obj in response.context["cl"].result_list
    ]


def test_it_lists_submitted_submissions_and_hides_drafts(client, reviewer):
    call = make_call()
    submitted = make_submission(call)
    make_submission(call, state=Submission.State.DRAFT)

    response = client.get(LIST_URL)

    assert listed(response) == [submitted.reference]


def test_it_lists_drafts_to_a_call_manager_when_asked(client):
    client.force_login(make_call_manager())
    call = make_call()
    make_submission(call)
    draft = make_submission(call, state=Submission.State.DRAFT)

    response = client.get(LIST_URL, {"state": "draft"})

    assert listed(response) == [f"(draft {draft.pk})"]


def test_a_reviewer_never_sees_a_draft_in_the_list_or_by_its_url(client, reviewer):
    call = make_call()
    submitted = make_submission(call)
    draft = make_submission(call, state=Submission.State.DRAFT, name="Unfinished Draft")

    # The state filter is not offered to them, and asking for drafts anyway is ignored.
    for state in ("draft", "all"):
        response = client.get(LIST_URL, {"state": state})
        assert response.status_code == 200
        assert listed(response) == [submitted.reference], state
    assert "Drafts" not in client.get(LIST_URL).content.decode()
    change = client.get(reverse("admin:submissions_submission_change", args=[draft.pk]))
    assert change.status_code == 404
    assert "Unfinished Draft" not in change.content.decode()


def test_it_shows_the_columns_a_reviewer_needs(client, reviewer):
    call = make_call(title="What Works: Social Media")
    submission = make_submission(
        call,
        name="Ada Lovelace",
        organisation="Analytical Society",
        # 12:00 UTC in June is 13:00 UK time (BST).
        submitted_at=datetime(2018, 6, 1, 12, 0, tzinfo=UTC),
        is_late=True,
        review_status=Submission.ReviewStatus.SHORTLISTED,
        assigned_reviewer=reviewer,
    )
    make_attachment(submission)
    make_attachment(submission)

    response = client.get(LIST_URL)

    row = response.text.split(f">{submission.reference}</a>")[1].split("</tr>")[0]
    assert "Ada Lovelace" in row
    assert "Analytical Society" in row
    assert "What Works: Social Media" in row
    assert "1 Jun 2018, 13:00" in row
    assert '<span class="late-label">Late</span>' in row  # an amber label, not a tick
    assert "Shortlisted" in row
    assert '<td class="field-files">2</td>' in row
    assert "Alice Reviewer" in row
    assert "Submitted (UK time)" in response.text


def test_it_puts_the_oldest_submissions_first_and_says_so(client, reviewer):
    call = make_call()
    now = datetime(2018, 3, 1, 12, tzinfo=LONDON)
    older = make_submission(call, submitted_at=now - timedelta(days=2))
    late = make_submission(call, submitted_at=now + timedelta(days=3000), is_late=True)
    newest = make_submission(call, submitted_at=now)
    middle = make_submission(call, submitted_at=now - timedelta(days=1))

    response = client.get(LIST_URL)

    assert listed(response) == [
        older.reference,
        middle.reference,
        newest.reference,
        late.reference,
    ]
    assert '<p class="list-order">Oldest first.' in response.text
    submitted = response.context["cl"].list_display.index("submitted")
    resorted = client.get(LIST_URL, {"o": f"-{submitted}"})  # by time submitted, newest first
    assert listed(resorted)[0] == late.reference
    assert '<p class="list-order">In the order you chose.' in resorted.text


def test_a_withdrawal_request_is_labelled_in_its_row(client, reviewer):
    call = make_call()
    asked = make_submission(call)
    asked.request_withdrawal()
    make_submission(call)

    page = client.get(LIST_URL).text

    rows = re.findall(r"<tr>.*?</tr>", page, re.DOTALL)
    [labelled] = [row for row in rows if "Withdrawal requested" in row]
    assert asked.reference in labelled
    assert 'New<br><span class="withdrawal-label">Withdrawal requested</span>' in labelled


def test_it_filters_by_review_status(client, reviewer):
    call = make_call()
    new = make_submission(call)
    make_submission(call, review_status=Submission.ReviewStatus.SHORTLISTED)

    response = client.get(LIST_URL, {"review_status__exact": "new"})

    assert listed(response) == [new.reference]


def test_it_filters_by_call(client, reviewer):
    wanted = make_submission(make_call())
    make_submission(make_call())

    response = client.get(LIST_URL, {"call__id__exact": wanted.call_id})

    assert listed(response) == [wanted.reference]


def test_it_filters_late_submissions(client, reviewer):
    call = make_call()
    late = make_submission(call, is_late=True)
    make_submission(call)

    response = client.get(LIST_URL, {"is_late__exact": "1"})

    assert listed(response) == [late.reference]


def test_it_filters_by_credit_preference(client, reviewer):
    call = make_call()
    anonymous = make_submission(call, credit_preference=Submission.Credit.NONE)
    make_submission(call)

    response = client.get(LIST_URL, {"credit_preference__exact": "none"})

    assert listed(response) == [anonymous.reference]


def test_it_filters_submissions_with_and_without_files(client, reviewer):
    call = make_call()
    with_files = make_submission(call)
    make_attachment(with_files)
    make_attachment(with_files)
    without = make_submission(call)

    assert listed(client.get(LIST_URL, {"has_files": "yes"})) == [with_files.reference]
    assert listed(client.get(LIST_URL, {"has_files": "no"})) == [without.reference]


def test_it_filters_by_theme_once_per_submission(client, reviewer):
    call = make_call()
    podcasts, video = Theme.objects.create(name="Podcasts"), Theme.objects.create(name="Video")
    tagged = make_submission(call)
    tagged.themes.set([podcasts, video])
    make_submission(call).themes.set([video])

    response = client.get(LIST_URL, {"theme": podcasts.pk})

    assert listed(response) == [tagged.reference]


def test_it_filters_to_submissions_assigned_to_me_or_to_nobody(client, reviewer):
    call = make_call()
    mine = make_submission(call, assigned_reviewer=reviewer)
    unassigned = make_submission(call)
    make_submission(call, assigned_reviewer=make_call_manager())

    assert listed(client.get(LIST_URL, {"reviewer": "me"})) == [mine.reference]
    assert listed(client.get(LIST_URL, {"reviewer": "nobody"})) == [unassigned.reference]


def test_it_filters_by_uk_days_submitted_between(client, reviewer):
    call = make_call()
    # 23:30 UTC on 5 June is 00:30 on 6 June UK time: a 6 June submission.
    sixth = make_submission(call, submitted_at=datetime(2018, 6, 5, 23, 30, tzinfo=UTC))
    make_submission(call, submitted_at=datetime(2018, 6, 5, 22, 30, tzinfo=UTC))
    make_submission(call, submitted_at=datetime(2018, 6, 6, 23, 30, tzinfo=UTC))

    response = client.get(LIST_URL, {"submitted_from": "2018-06-06", "submitted_to": "2018-06-06"})

    assert listed(response) == [sixth.reference]


def test_a_mistyped_date_gets_a_message_in_the_filter_not_an_error(client, reviewer):
    make_submission(make_call())

    response = client.get(LIST_URL, {"submitted_from": "6 March"})

    assert response.status_code == 200
    assert "Enter dates like 2018-03-06." in response.text
    assert len(listed(response)) == 1


def test_the_date_range_form_keeps_the_other_filters(client, reviewer):
    response = client.get(LIST_URL, {"review_status__exact": "new"})

    assert '<input type="hidden" name="review_status__exact" value="new">' in response.text


def test_the_date_links_offer_only_the_months_with_submissions(client, reviewer):
    call = make_call()
    make_submission(call, submitted_at=datetime(2018, 1, 20, 12, tzinfo=LONDON))
    make_submission(call, submitted_at=datetime(2018, 3, 6, 23, 30, tzinfo=LONDON))

    response = client.get(LIST_URL)

    hierarchy = response.text.split('class="toplinks"')[1].split("</nav>")[0]
    assert "?submitted_at__month=1&amp;submitted_at__year=2018" in hierarchy
    assert "?submitted_at__month=3&amp;submitted_at__year=2018" in hierarchy
    assert "January 2018" in hierarchy and "March 2018" in hierarchy
    assert "submitted_at__month=2&amp;" not in hierarchy
    assert "February 2018" not in hierarchy


def test_the_date_links_offer_only_the_years_with_submissions(client, reviewer):
    call = make_call()
    make_submission(call, submitted_at=datetime(2016, 5, 1, 12, tzinfo=LONDON))
    make_submission(call, submitted_at=datetime(2018, 3, 6, 12, tzinfo=LONDON))

    response = client.get(LIST_URL)

    hierarchy = response.text.split('class="toplinks"')[1].split("</nav>")[0]
    assert ">2016</a>" in hierarchy and ">2018</a>" in hierarchy
    assert "2017" not in hierarchy


def test_the_date_links_drill_down_to_uk_days(client, reviewer):
    # 23:30 UTC on 31 March 2018 is 00:30 on 1 April UK time (BST).
    make_submission(make_call(), submitted_at=datetime(2018, 3, 31, 23, 30, tzinfo=UTC))

    response = client.get(LIST_URL, {"submitted_at__year": "2018", "submitted_at__month": "4"})

    assert len(listed(response)) == 1
    assert "submitted_at__day=1&amp;" in response.text


def test_a_search_leaves_out_the_date_links(client, reviewer):
    make_submission(make_call(), name="Ada Lovelace")

    response = client.get(LIST_URL, {"q": "Lovelace"})

    assert len(listed(response)) == 1
    assert 'class="toplinks"' not in response.text


@pytest.mark.parametrize("rows", [10, 200])
def test_the_list_makes_the_same_queries_for_10_or_200_rows(
    client, reviewer, rows, django_assert_num_queries
):
    call = make_call()
    themes = [Theme.objects.create(name=f"Theme {i}") for i in range(3)]
    for i in range(rows):
        submission = make_submission(call, assigned_reviewer=reviewer if i % 2 else None)
        submission.themes.set(themes[: i % 3])
        if i % 4 == 0:
            make_attachment(submission)

    # 11, and one for the themes column (a prefetch, the same for any number of rows).
    with django_assert_num_queries(12):
        response = client.get(LIST_URL)

    assert len(response.context["cl"].result_list) == min(rows, 50)


def test_a_bulk_action_moves_the_selected_to_a_status_and_records_it(client, reviewer):
    call = make_call()
    chosen = [make_submission(call), make_submission(call)]
    other = make_submission(call)

    response = client.post(
        LIST_URL,
        {
            "action": "set_status_shortlisted",
            "_selected_action": [s.pk for s in chosen],
        },
        follow=True,
    )

    assert "2 moved to “Shortlisted”." in response.text
    statuses = dict(Submission.objects.values_list("pk", "review_status"))
    assert statuses == {chosen[0].pk: "shortlisted", chosen[1].pk: "shortlisted", other.pk: "new"}
    changes = ReviewChange.objects.filter(field="review_status")
    assert sorted(changes.values_list("submission_id", flat=True)) == sorted(s.pk for s in chosen)
    assert {(c.old_value, c.new_value, c.changed_by_id) for c in changes} == {
        ("New", "Shortlisted", reviewer.pk)
    }


def test_the_reviewer_choices_name_staff_as_the_review_pages_do(client, reviewer):
    submission = make_submission(make_call())
    make_call_manager(first_name="Bob", last_name="Jones")
    page = reverse("admin:submissions_submission_change", args=[submission.pk])

    for response in (client.get(LIST_URL), client.get(page)):
        options = re.findall(r"<option value=\"\d+\">([^<]*)</option>", response.text)
        assert options == ["Alice Reviewer", "Bob Jones"]


def test_a_bulk_action_assigns_the_selected_to_the_reviewer_chosen(client, reviewer):
    call = make_call()
    bob = make_call_manager(first_name="Bob", last_name="Jones")
    chosen = make_submission(call)

    response = client.post(
        LIST_URL,
        {"action": "assign_to_chosen", "reviewer": bob.pk, "_selected_action": [chosen.pk]},
        follow=True,
    )

    assert "1 assigned to Bob Jones." in response.text
    chosen.refresh_from_db()
    assert chosen.assigned_reviewer == bob
    change = ReviewChange.objects.get(submission=chosen)
    assert (change.field, change.old_value, change.new_value) == (
        "assigned_reviewer",
        "",
        "Bob Jones",
    )


def test_assigning_without_choosing_a_reviewer_changes_nothing_and_says_why(client, reviewer):
    chosen = make_submission(make_call())

    response = client.post(
        LIST_URL,
        {"action": "assign_to_chosen", "reviewer": "", "_selected_action": [chosen.pk]},
        follow=True,
    )

    assert "Choose a reviewer beside the action, then press Go." in response.text
    chosen.refresh_from_db()
    assert chosen.assigned_reviewer is None
    assert not ReviewChange.objects.exists()


def test_a_reviewer_assigns_the_selected_to_themselves(client, reviewer):
    chosen = make_submission(make_call())

    client.post(LIST_URL, {"action": "assign_to_me", "_selected_action": [chosen.pk]})

    chosen.refresh_from_db()
    assert chosen.assigned_reviewer == reviewer


def test_the_date_links_follow_the_status_filter(client, reviewer):
    call = make_call()
    make_submission(call, submitted_at=datetime(2018, 1, 20, 12, tzinfo=LONDON))
    make_submission(
        call,
        submitted_at=datetime(2018, 3, 6, 12, tzinfo=LONDON),
        review_status=Submission.ReviewStatus.SHORTLISTED,
    )
    make_submission(
        call,
        submitted_at=datetime(2018, 3, 9, 12, tzinfo=LONDON),
        review_status=Submission.ReviewStatus.SHORTLISTED,
    )

    response = client.get(LIST_URL, {"review_status__exact": "shortlisted"})

    # Only March has shortlisted ones: its days are offered, January is not.
    hierarchy = response.text.split('class="toplinks"')[1].split("</nav>")[0]
    assert ">6 March<" in hierarchy and ">9 March<" in hierarchy
    assert "January" not in hierarchy and "submitted_at__month=1&amp;" not in hierarchy

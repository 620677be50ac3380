"""The review queue: review fields beside the evidence, and "Save and review next"."""

from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from submissions.models import Submission
from tests.factories import assign, make_call, make_reviewer, make_submission

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
LIST_URL = reverse("admin:submissions_submission_changelist")
START = datetime(2018, 3, 1, 12, tzinfo=LONDON)


@pytest.fixture
def call():
    return make_call()


@pytest.fixture
def alice(client, call):
    user = make_reviewer("alice", first_name="Alice", last_name="Smith")
    assign(user, call)
    client.force_login(user)
    return user


def change_url(submission: Submission, filters: str = "") -> str:
    url = reverse("admin:submissions_submission_change", args=[submission.pk])
    return url + "?" + urlencode({"_changelist_filters": filters}) if filters else url


def review_next(client, submission: Submission, filters: str, **fields):
    data = {
        "review_status": submission.review_status,
        "reviewer_notes": "",
        "assigned_reviewer": "",
    }
    if submission.assigned_reviewer_id:
        data["assigned_reviewer"] = str(submission.assigned_reviewer_id)
    data.update(fields)
    data["_review_next"] = "Save and review next"
    return client.post(change_url(submission, filters), data)


@pytest.fixture
def queue(call, alice):
    """Four new submissions assigned to alice, oldest first, with others in between."""
    mine = [
        make_submission(call, assigned_reviewer=alice, submitted_at=START - timedelta(hours=i))
        for i in reversed(range(4))
    ]
    make_submission(call, submitted_at=START - timedelta(minutes=30))  # nobody's
    make_submission(
        call,
        assigned_reviewer=alice,
        review_status=Submission.ReviewStatus.SHORTLISTED,
        submitted_at=START - timedelta(minutes=90),
    )
    return mine


def test_save_and_review_next_walks_the_filtered_list_in_its_order(client, queue):
    filters = "reviewer=me&review_status__exact=new"

    seen = []
    current = queue[0]
    while True:
        response = review_next(client, current, filters, review_status="in_review")
        assert response.status_code == 302
        seen.append(current.pk)
        following = [s for s in queue if change_url(s, filters) == response.url]
        if not following:
            break
        current = following[0]

    # Each one was marked "in review" and so left the list; the next is still the one after.
    assert seen == [s.pk for s in queue]
    assert response.url == f"{LIST_URL}?{filters}"
    assert set(Submission.objects.filter(pk__in=seen).values_list("review_status", flat=True)) == {
        "in_review"
    }


def test_the_last_one_says_so_and_returns_to_the_list(client, queue):
    filters = "reviewer=me&review_status__exact=new"

    response = review_next(client, queue[-1], filters)
    page = client.get(response.url)

    assert response.url == f"{LIST_URL}?{filters}"
    assert "That was the last submission in this list." in page.text


def test_the_next_follows_the_lists_sort_order(client, queue, call):
    # Sorted by reference, ascending (the list's column 2, after the checkbox column).
    filters = "reviewer=me&review_status__exact=new&o=1"
    by_reference = sorted(queue, key=lambda s: s.reference)

    response = review_next(client, by_reference[0], filters)

    assert response.url == change_url(by_reference[1], filters)


def test_without_filters_the_next_is_the_next_of_the_whole_list(client, queue):
    submitted = Submission.objects.filter(state="submitted")
    oldest_first = sorted(submitted, key=lambda s: s.submitted_at)

    response = review_next(client, oldest_first[0], "")

    assert response.url == change_url(oldest_first[1])


def test_the_queue_is_oldest_first_so_a_late_one_comes_last(client, call, alice):
    late = make_submission(
        call, assigned_reviewer=alice, submitted_at=START + timedelta(days=3000), is_late=True
    )
    early = make_submission(call, assigned_reviewer=alice, submitted_at=START)

    response = review_next(client, early, "reviewer=me")

    assert response.url == change_url(late, "reviewer=me")


def test_the_submission_says_where_it_stands_in_the_list_and_in_what_order(client, queue):
    filters = "reviewer=me&review_status__exact=new"

    page = client.get(change_url(queue[2], filters)).text

    assert "<strong>3 of 4</strong> in" in page
    assert f'href="{LIST_URL}?reviewer=me&amp;review_status__exact=new">' in page
    assert "the list you came from</a>, oldest first" in page


def test_sorted_by_a_column_it_counts_in_that_order(client, queue):
    filters = "reviewer=me&review_status__exact=new&o=1"  # by reference
    by_reference = sorted(queue, key=lambda s: s.reference)

    page = client.get(change_url(by_reference[0], filters)).text

    assert "<strong>1 of 4</strong> in" in page
    assert "in the order you sorted the list" in page


def test_in_a_long_list_the_place_is_counted_only_so_far(client, queue, monkeypatch):
    # Counting a whole table of a million on every page is not worth "1 of 1,000,000".
    monkeypatch.setattr("submissions.review.admin.queue.QUEUE_COUNT_LIMIT", 2)
    filters = "reviewer=me&review_status__exact=new"

    first = client.get(change_url(queue[0], filters)).text
    last = client.get(change_url(queue[3], filters)).text

    assert "<strong>1 of more than 2</strong> in" in first
    assert "<strong>past the first 2 of more than 2</strong> in" in last


def test_a_submission_not_in_the_list_shows_no_place(client, queue):
    # Opened from the list of new ones, then shortlisted elsewhere: it is no longer in it.
    Submission.objects.filter(pk=queue[0].pk).update(review_status="shortlisted")

    page = client.get(change_url(queue[0], "review_status__exact=new")).text

    assert 'class="queue-place"' not in page


def test_the_queue_keeps_to_the_reviewers_calls(client, alice, call):
    only = make_submission(call, assigned_reviewer=alice, submitted_at=START)
    make_submission(make_call(), submitted_at=START - timedelta(hours=1))  # another call

    response = review_next(client, only, "review_status__exact=new")

    assert response.url == f"{LIST_URL}?review_status__exact=new"


def test_save_and_review_next_saves_the_review_and_records_it(client, queue):
    response = review_next(
        client, queue[0], "reviewer=me", review_status="shortlisted", reviewer_notes="Strong."
    )

    queue[0].refresh_from_db()
    assert response.status_code == 302
    assert (queue[0].review_status, queue[0].reviewer_notes) == ("shortlisted", "Strong.")
    assert queue[0].review_changes.count() == 2


def test_the_review_fields_come_before_the_contributors_words(client, queue):
    page = client.get(change_url(queue[0], "reviewer=me")).text

    fields = page.index('name="review_status"')
    assert fields < page.index("Evidence</h2>")
    assert fields < page.index(next(iter(queue[0].answers.values())))
    assert 'name="_review_next"' in page


def test_assigned_to_me_is_one_click_from_the_admin_home(client, queue):
    home = client.get(reverse("admin:index")).text

    assert f'href="{LIST_URL}?reviewer=me"' in home
    listed = client.get(f"{LIST_URL}?reviewer=me").context["cl"].result_list
    assert len(listed) == 5  # four new and one shortlisted, all assigned to alice


@pytest.mark.parametrize("rows", [5, 50])
def test_save_and_review_next_makes_the_same_queries_for_any_length_of_list(
    client, call, alice, rows, django_assert_num_queries
):
    submissions = [
        make_submission(call, assigned_reviewer=alice, submitted_at=START + timedelta(hours=i))
        for i in range(rows)
    ]

    # The save and its history, then the list before the save (only the filters in use; one
    # probe for the next): 19 at 5 rows and at 50.
    with django_assert_num_queries(19):
        response = review_next(client, submissions[0], "reviewer=me", review_status="in_review")

    assert response.url == change_url(submissions[1], "reviewer=me")

"""The count the submissions list shows: exact where it is cheap, plainly "more than" beyond the
limit, never a silently wrong number. The limit is lowered to 3 and pages to 2 rows here, so a
handful of rows shows what a million do."""

import re

import pytest
from django.urls import reverse

from submissions.models import Submission, Theme
from submissions.review.admin import counts
from submissions.review.admin.submissions import SubmissionAdmin
from tests.factories import assign, make_call, make_call_manager, make_reviewer, make_submission

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:submissions_submission_changelist")


@pytest.fixture(autouse=True)
def limit(monkeypatch):
    monkeypatch.setattr(counts, "COUNT_LIMIT", 3)
    monkeypatch.setattr(SubmissionAdmin, "list_per_page", 2)


@pytest.fixture
def reviewer(client):
    user = make_reviewer(every_call=True)
    client.force_login(user)
    return user


def count_line(response) -> str:
    """The words beside the page links, as a reviewer reads them (no links, no "Show all")."""
    paginator = response.text.split('<p class="paginator">')[1].split("</p>")[0]
    words = re.sub(r"<(a|span class=\"this-page\")[^>]*>.*?</(a|span)>", " ", paginator)
    return " ".join(re.sub(r"<[^>]+>", " ", words).split())


def page_links(response) -> list[str]:
    paginator = response.text.split('<p class="paginator">')[1].split("</p>")[0]
    return re.findall(r">(\d+)</(?:a|span)>", paginator)


def test_a_search_matching_more_than_the_limit_says_more_than_and_pages_the_first(client, reviewer):
    call = make_call()
    for _ in range(5):
        make_submission(call, organisation="Bristol Museum")

    response = client.get(LIST_URL, {"q": "Bristol"})

    assert count_line(response) == (
        "More than 3 submissions: the first 3 are paged here. A filter or a search narrows them."
    )
    assert 'class="showall"' not in response.text  # "Show all" would list every match
    assert "More than 3 results" in response.text  # beside the search box
    assert "Select all matching submissions (more than 3)" in response.text
    assert "All matching selected (more than 3)" in response.text
    assert "5 submissions" not in response.text and "5 results" not in response.text
    assert page_links(response) == ["1", "2"]
    assert len(response.context["cl"].result_list) == 2


def test_a_search_matching_no_more_than_the_limit_is_counted_exactly(client, reviewer):
    call = make_call()
    for _ in range(3):
        make_submission(call, organisation="Bristol Museum")
    make_submission(call, organisation="Cardiff")

    response = client.get(LIST_URL, {"q": "Bristol"})

    assert count_line(response) == "3 submissions"
    assert "3 results" in response.text
    assert "More than" not in response.text


def test_pages_beyond_the_limit_are_offered_up_to_it(client, reviewer, monkeypatch):
    monkeypatch.setattr(counts, "COUNT_LIMIT", 4)
    theme = Theme.objects.create(name="Podcasts")
    call = make_call()
    for _ in range(7):
        make_submission(call).themes.add(theme)

    response = client.get(LIST_URL, {"theme": theme.pk})

    assert page_links(response) == ["1", "2"]
    assert count_line(response).startswith("More than 4 submissions")
    second = client.get(LIST_URL, {"theme": theme.pk, "p": "2"})
    assert len(second.context["cl"].result_list) == 2


def test_the_whole_list_is_counted_exactly_however_long(client, reviewer):
    call = make_call()
    for _ in range(5):
        make_submission(call)
    make_submission(call, state=Submission.State.DRAFT)

    response = client.get(LIST_URL)

    assert count_line(response) == "5 submissions"
    assert "More than" not in response.text
    assert "Select all 5 submissions" in response.text


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"review_status__exact": "shortlisted"}, 4),
        ({"is_late__exact": "1"}, 5),
        ({"is_late__exact": "0", "review_status__exact": "new"}, 2),
        ({"state": "submitted", "review_status__exact": "new"}, 3),
    ],
)
def test_status_and_lateness_are_counted_exactly_beyond_the_limit(
    client, reviewer, filters, expected
):
    call = make_call()
    for _ in range(4):
        make_submission(call, review_status="shortlisted", is_late=True)
    make_submission(call, is_late=True)
    make_submission(call)
    make_submission(call)

    response = client.get(LIST_URL, {**filters, "call__id__exact": call.pk})

    assert count_line(response) == f"{expected} submissions"


def test_other_filters_beyond_the_limit_say_more_than(client, reviewer):
    call = make_call()
    for _ in range(5):
        make_submission(call, credit_preference=Submission.Credit.NONE)

    response = client.get(LIST_URL, {"credit_preference__exact": "none"})

    assert count_line(response).startswith("More than 3 submissions")


def test_a_reviewer_counts_only_the_calls_they_review(client):
    theirs, other = make_call(), make_call()
    alice = make_reviewer()
    assign(alice, theirs)
    client.force_login(alice)
    for _ in range(4):
        make_submission(theirs, review_status="in_review")
        make_submission(other, review_status="in_review")

    assert count_line(client.get(LIST_URL)) == "4 submissions"
    filtered = client.get(LIST_URL, {"review_status__exact": "in_review"})
    assert count_line(filtered) == "4 submissions"
    elsewhere = client.get(LIST_URL, {"call__id__exact": other.pk})
    assert count_line(elsewhere) == "0 submissions"


def test_drafts_are_counted_as_any_other_filter(client):
    client.force_login(make_call_manager())
    call = make_call()
    for _ in range(2):
        make_submission(call, state=Submission.State.DRAFT)
    make_submission(call)

    assert count_line(client.get(LIST_URL, {"state": "draft"})) == "2 submissions"
    assert count_line(client.get(LIST_URL, {"state": "all"})) == "3 submissions"


def test_a_theme_is_counted_among_the_submissions_the_list_holds(client):
    """The theme's count starts from the theme's links (counts.through_theme_links): a link of a
    draft, of another call or of a submission another filter leaves out is not counted."""
    theirs, other = make_call(), make_call()
    alice = make_reviewer()
    assign(alice, theirs)
    client.force_login(alice)
    podcasts, blogs = Theme.objects.create(name="Podcasts"), Theme.objects.create(name="Blogs")
    make_submission(theirs).themes.add(podcasts, blogs)
    make_submission(theirs, review_status="shortlisted").themes.add(podcasts)
    make_submission(theirs).themes.add(blogs)
    make_submission(theirs, state=Submission.State.DRAFT).themes.add(podcasts)
    make_submission(other).themes.add(podcasts)
    make_submission(other).themes.add(podcasts)

    assert count_line(client.get(LIST_URL, {"theme": podcasts.pk})) == "2 submissions"
    shortlisted = {"theme": podcasts.pk, "review_status__exact": "shortlisted"}
    assert count_line(client.get(LIST_URL, shortlisted)) == "1 submission"
    assert count_line(client.get(LIST_URL, {"theme": podcasts.pk, "q": "nowhere"})) == (
        "0 submissions"
    )
    for _ in range(2):
        make_submission(theirs).themes.add(podcasts)
    assert count_line(client.get(LIST_URL, {"theme": podcasts.pk})).startswith(
        "More than 3 submissions"
    )

"""The overview on the admin index: per open call, counts by status, late count, a chart."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from submissions.models import Call, Submission
from submissions.review.overview import build_chart
from tests.factories import make_call, make_reviewer, make_staff_without_group, make_submission

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
INDEX_URL = reverse("admin:index")


def overview_html(response) -> str:
    html = response.text
    assert 'id="review-overview"' in html
    return html.split('id="review-overview"')[1].split("</div>")[0]


def test_it_counts_each_open_calls_submissions_by_status_and_lateness(client):
    call = make_call(title="Open call")
    day = datetime(2018, 3, 1, 12, tzinfo=LONDON)
    make_submission(call, submitted_at=day)
    make_submission(call, submitted_at=day, review_status=Submission.ReviewStatus.SHORTLISTED)
    make_submission(call, submitted_at=day, is_late=True)
    make_submission(call, state=Submission.State.DRAFT)
    client.force_login(make_reviewer(every_call=True))

    html = overview_html(client.get(INDEX_URL))

    assert "Open call" in html
    assert "3 submitted, of which" in html
    cells = re.findall(r"<td><a [^>]*>(\d+)</a></td>", html.split("<h3>Open call</h3>")[1])
    # New, In review, Shortlisted, Included, Not included, Late
    assert cells[:6] == ["2", "0", "1", "0", "0", "1"]


def test_the_home_page_counts_the_withdrawal_requests_waiting_for_each_call(client):
    call = make_call(title="Open call")
    other = make_call(title="Other call")
    for submission in [make_submission(call), make_submission(call), make_submission(other)]:
        submission.request_withdrawal()
    make_submission(call)
    client.force_login(make_reviewer(every_call=True))

    html = client.get(INDEX_URL).text

    section = html.split("<h3>Open call</h3>")[1].split("</table>")[0]
    assert '<th scope="col">Withdrawal requested</th>' in section
    url = f"{reverse('admin:submissions_submission_changelist')}?call__id__exact={call.pk}"
    assert f'<td class="withdrawals-waiting"><a href="{url}&amp;withdrawal=yes">2</a></td>' in (
        section
    )
    other_section = html.split("<h3>Other call</h3>")[1].split("</table>")[0]
    assert ">1</a></td></tr>" in other_section


def test_it_leaves_out_calls_that_are_closed(client):
    make_call(title="Closed call", closes_at=datetime(2018, 1, 2, tzinfo=LONDON))
    client.force_login(make_reviewer(every_call=True))

    html = overview_html(client.get(INDEX_URL))

    assert "Closed call" not in html


def test_the_chart_has_a_bar_per_uk_day_with_its_count(client):
    Call.objects.all().delete()
    call = make_call(
        opens_at=datetime(2018, 3, 1, tzinfo=LONDON),
        closes_at=datetime(2018, 3, 4, 23, 59, tzinfo=LONDON),
        late_policy=Call.LatePolicy.ACCEPT_LATE,
    )
    first = datetime(2018, 3, 1, 12, tzinfo=LONDON)
    for _ in range(3):
        make_submission(call, submitted_at=first)
    # 23:30 UTC on 2 March is still 2 March in winter; 3 March is empty; 4 March has one.
    make_submission(call, submitted_at=datetime(2018, 3, 2, 23, 30, tzinfo=ZoneInfo("UTC")))
    make_submission(call, submitted_at=first + timedelta(days=3))
    client.force_login(make_reviewer(every_call=True))

    html = overview_html(client.get(INDEX_URL))

    assert "<svg" in html
    assert (
        "Submissions per day, 1 Mar 2018 to 4 Mar 2018; busiest day: 3; deadline 4 Mar 2018" in html
    )
    assert re.findall(r"<title>Day of (\d+ Mar 2018): (\d+)</title>", html) == [
        ("1 Mar 2018", "3"),
        ("2 Mar 2018", "1"),
        ("4 Mar 2018", "1"),
    ]


def test_a_long_call_is_charted_by_week():
    days = {datetime(2018, 1, 1).date() + timedelta(days=i): 1 for i in range(0, 200, 2)}

    chart = build_chart(days)

    assert chart.period == "week"
    assert all(bar.start.weekday() == 0 for bar in chart.bars)
    assert sum(bar.count for bar in chart.bars) == 100


def test_staff_who_may_not_see_submissions_see_no_overview(client):
    make_submission(make_call())
    client.force_login(make_staff_without_group())

    response = client.get(INDEX_URL)

    assert 'id="review-overview"' not in response.text


@pytest.mark.parametrize("rows", [5, 60])
def test_the_overview_makes_the_same_queries_for_any_number_of_submissions(
    client, rows, django_assert_num_queries
):
    call = make_call()
    start = datetime(2018, 3, 1, 12, tzinfo=LONDON)
    for i in range(rows):
        submission = make_submission(
            call, submitted_at=start + timedelta(days=i % 7), is_late=i % 5 == 0
        )
        if i % 4 == 0:
            submission.request_withdrawal()
    client.force_login(make_reviewer(every_call=True))

    # The counts, the withdrawal requests and the chart's days: one query, of the tally.
    with django_assert_num_queries(7):
        client.get(INDEX_URL)

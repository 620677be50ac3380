"""The overview's chart spans the call's open period, with labelled axes and the deadline."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from submissions.models import Call, Submission
from submissions.review.overview import build_chart
from tests.factories import make_call, make_reviewer, make_submission

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def chart_html(client):
    Call.objects.all().delete()
    call = make_call(
        opens_at=datetime(2018, 1, 15, 9, tzinfo=LONDON),
        closes_at=datetime(2018, 3, 6, 23, 59, tzinfo=LONDON),
        late_policy=Call.LatePolicy.ACCEPT_LATE,
    )
    # Nothing in the first weeks; one on 1 March; one late, on 20 March.
    make_submission(call, submitted_at=datetime(2018, 3, 1, 12, tzinfo=LONDON))
    make_submission(call, submitted_at=datetime(2018, 3, 20, 12, tzinfo=LONDON), is_late=True)
    client.force_login(make_reviewer(every_call=True))
    html = client.get(reverse("admin:index")).text
    return html.split('id="review-overview"')[1].split("</section>")[0]


def test_the_chart_covers_the_calls_own_period_with_the_late_one_beside_it(chart_html):
    assert "Submissions per day, 15 Jan 2018 to 6 Mar 2018" in chart_html
    assert ">15 Jan 2018</text>" in chart_html
    assert 'class="tick tick-end"' not in chart_html  # no tick past the deadline on the axis
    beside = chart_html.split('<g class="after-deadline">')[1].split("</g>")[0]
    assert ">1 after</text>" in beside and ">20 Mar 2018</text>" in beside
    assert ">1 after the deadline</a>, on 20 Mar 2018, counted but not drawn." in chart_html


def test_one_late_outlier_years_later_leaves_the_calls_own_period_readable():
    # The case: the 2018 call, busy in its last week, and one submission in 2026.
    per_day = {date(2018, 3, day): day for day in range(1, 7)}
    per_day[date(2026, 12, 1)] = 1

    chart = build_chart(per_day, opens=date(2018, 1, 1), deadline=date(2018, 3, 6))

    assert (chart.period, chart.first, chart.last) == ("day", date(2018, 1, 1), date(2018, 3, 6))
    busy = [bar for bar in chart.bars if bar.count]
    assert [bar.count for bar in busy] == [1, 2, 3, 4, 5, 6]
    # 65 days across the plot: each bar is several pixels wide, all of them in view.
    assert min(bar.width for bar in busy) > 6
    assert busy[-1].x + busy[-1].width <= chart.right < chart.after_x < chart.width - 60
    assert (chart.after_count, chart.after_first, chart.after_last) == (
        1,
        date(2026, 12, 1),
        date(2026, 12, 1),
    )


def test_the_chart_marks_the_deadline_and_labels_its_axes(chart_html):
    assert 'class="deadline"' in chart_html
    assert ">Deadline 6 Mar 2018</text>" in chart_html
    assert ">Submissions</text>" in chart_html
    assert ">Date (UK), by day</text>" in chart_html
    # The count axis runs from 0 to the tallest bar.
    assert re.findall(r'class="tick tick-y"[^>]*>(\d+)</text>', chart_html) == ["0", "1"]


def test_the_deadline_line_falls_within_the_deadlines_own_bar():
    chart = build_chart(
        {date(2018, 3, 6): 2, date(2018, 3, 8): 1},
        opens=date(2018, 3, 1),
        deadline=date(2018, 3, 6),
    )
    bar = next(bar for bar in chart.bars if bar.start == date(2018, 3, 6))

    assert chart.bars[0].start == date(2018, 3, 1)
    assert len(chart.bars) == 6  # to the deadline; 8 March is summed beside the chart
    assert bar.x <= chart.deadline_x <= bar.x + bar.width


def test_a_call_open_for_years_is_charted_by_month():
    chart = build_chart({}, opens=date(2018, 1, 10), deadline=date(2021, 6, 30))

    assert chart.period == "month"
    assert chart.bars[0].start == date(2018, 1, 1)
    assert chart.bars[-1].start == date(2021, 6, 1)


def test_a_call_with_no_submissions_yet_still_shows_its_period():
    chart = build_chart({}, opens=date(2018, 3, 1), deadline=date(2018, 3, 31))

    assert chart.period == "day"
    assert len(chart.bars) == 31
    assert chart.peak == 0


def test_submissions_before_the_opening_are_not_lost_from_the_totals(client):
    # A draft started before the call moved its opening date: still counted in the table.
    call = make_call(opens_at=datetime(2018, 3, 1, tzinfo=LONDON))
    make_submission(call, submitted_at=datetime(2018, 2, 20, tzinfo=LONDON))
    assert Submission.objects.filter(call=call).count() == 1
    client.force_login(make_reviewer(every_call=True))

    html = client.get(reverse("admin:index")).text

    assert "1 submitted" in html.split(call.title)[1]

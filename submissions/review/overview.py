"""The review overview on the admin index: per open call, where its submissions stand."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode

from ..common.wording import LONDON
from ..models import Call, Submission, tally_rows
from .access import of_reviewable_calls

# The SVG's coordinate box, and the plot inside it: room on the left for the count axis and
# below for the dates and the axis title.
CHART_WIDTH = 680
CHART_HEIGHT = 210
PLOT_LEFT, PLOT_TOP, PLOT_RIGHT, PLOT_BOTTOM = 48, 14, 664, 160
# With submissions after the deadline, the plot ends here and their summary sits to its right.
AFTER_WIDTH = 110
# Beyond this many days a bar per day is thinner than a pixel or two; bars become weeks, and
# beyond this many weeks, months.
MAX_DAILY_BARS = 120
MAX_WEEKLY_BARS = 104


@dataclass
class Bar:
    start: date
    count: int
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0


@dataclass
class Tick:
    label: str
    x: float = 0
    y: float = 0


@dataclass
class Chart:
    period: str  # "day", "week" or "month"
    bars: list[Bar]
    peak: int
    deadline_x: float | None = None
    deadline: date | None = None
    # Submissions on days after the deadline: counted beside the chart, not drawn on its axis,
    # so that one late outlier years later does not squeeze the call's own period.
    after_count: int = 0
    after_first: date | None = None
    after_last: date | None = None
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = PLOT_LEFT
    top: int = PLOT_TOP
    right: int = PLOT_RIGHT
    bottom: int = PLOT_BOTTOM

    @property
    def first(self) -> date:
        return self.bars[0].start

    @property
    def last(self) -> date:
        return self.bars[-1].start

    @property
    def deadline_anchor(self) -> str:
        """Where the deadline's label hangs from its line, so it never runs off the chart."""
        if self.deadline_x is None or PLOT_LEFT + 90 <= self.deadline_x <= self.right - 90:
            return "middle"
        return "end" if self.deadline_x > self.right - 90 else "start"

    @property
    def x_title_y(self) -> int:
        return CHART_HEIGHT - 6

    @property
    def middle_x(self) -> float:
        return (PLOT_LEFT + self.right) / 2

    @property
    def after_x(self) -> int:
        """Where the summary of the submissions after the deadline starts."""
        return self.right + 16

    @property
    def middle_y(self) -> float:
        return (PLOT_TOP + PLOT_BOTTOM) / 2


@dataclass
class CallOverview:
    call: Call
    total: int = 0
    late: int = 0
    withdrawal_requested: int = 0
    statuses: list[tuple[str, int, str]] = field(default_factory=list)  # label, count, url
    late_url: str = ""
    # Those whose contributor asked for withdrawal, waiting for a call manager to erase them.
    withdrawals_url: str = ""
    chart: Chart | None = None


def changelist_url(**filters) -> str:
    return reverse("admin:submissions_submission_changelist") + "?" + urlencode(filters)


def _bucket(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())  # weeks start on Monday
    if period == "month":
        return day.replace(day=1)
    return day


def _next(start: date, period: str) -> date:
    if period == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=7 if period == "week" else 1)


def build_chart(
    per_day: dict[date, int], opens: date | None = None, deadline: date | None = None
) -> Chart | None:
    """Bars over the call's own period, from its opening to its deadline; the days after the
    deadline are summed beside it (`after_count`, from `after_first` to `after_last`).

    Without a deadline, the bars run to the last submission.
    """
    if not per_day and opens is None:
        return None
    after = {day: n for day, n in per_day.items() if deadline is not None and day > deadline}
    days = [*(d for d in per_day if d not in after), *(d for d in (opens, deadline) if d)]
    first, last = opens or min(days), max(days)
    span = (last - first).days
    period = "day" if span < MAX_DAILY_BARS else "week" if span < MAX_WEEKLY_BARS * 7 else "month"
    starts = []
    current = _bucket(first, period)
    while current <= last:
        starts.append(current)
        current = _next(current, period)
    counts = dict.fromkeys(starts, 0)
    for day, n in per_day.items():
        if day not in after and _bucket(day, period) in counts:
            counts[_bucket(day, period)] += n
    peak = max(counts.values()) or 1
    right = PLOT_RIGHT - AFTER_WIDTH if after else PLOT_RIGHT
    plot_width, plot_height = right - PLOT_LEFT, PLOT_BOTTOM - PLOT_TOP
    slot = plot_width / len(starts)
    bars = []
    for i, start in enumerate(starts):
        height = round(counts[start] / peak * plot_height, 2)
        bars.append(
            Bar(
                start=start,
                count=counts[start],
                x=round(PLOT_LEFT + i * slot + slot * 0.1, 2),
                y=round(PLOT_BOTTOM - height, 2),
                width=round(max(slot * 0.8, 0.5), 2),
                height=height,
            )
        )

    def x_of(day: date) -> float:
        # The middle of the day within its bar, so the deadline line falls on its own day.
        bucket = _bucket(day, period)
        within = (day - bucket).days + 0.5
        length = (_next(bucket, period) - bucket).days
        return round(PLOT_LEFT + (starts.index(bucket) + within / length) * slot, 2)

    chart = Chart(period=period, bars=bars, peak=max(counts.values()), right=right)
    if after:
        chart.after_count = sum(after.values())
        chart.after_first, chart.after_last = min(after), max(after)
    chart.x_ticks = [Tick(label=formats.date_format(first, "j M Y"), x=PLOT_LEFT)]
    if deadline is not None:
        chart.deadline, chart.deadline_x = deadline, x_of(deadline)
    if last != deadline:
        chart.x_ticks.append(Tick(label=formats.date_format(last, "j M Y"), x=right))
    top = chart.peak
    chart.y_ticks = [Tick(label="0", y=PLOT_BOTTOM)]
    if top:
        chart.y_ticks.append(Tick(label=str(top), y=PLOT_TOP))
    return chart


def review_overview(
    at: datetime | None = None, request: HttpRequest | None = None
) -> list[CallOverview]:
    """Counts by review status, late counts, withdrawal requests waiting and submissions per
    day, for every open call.

    Read from the tally, whatever the number of submissions. Given a request, only the calls
    its user reviews.
    """
    at = at or timezone.now()
    open_calls = Call.objects.open_at(at)
    if request is not None:
        open_calls = open_calls.filter(of_reviewable_calls(request, "pk"))
    calls = {call.pk: CallOverview(call=call) for call in open_calls}
    if not calls:
        return []

    # The tally's few rows per call and day, never the submissions themselves (models/tally.py).
    counts: dict[tuple[int, str], int] = {}
    per_day: dict[int, dict[date, int]] = {pk: {} for pk in calls}
    for row in tally_rows(calls):
        pk, n = row["call_id"], row["n"]
        overview = calls[pk]
        overview.total += n
        if row["is_late"]:
            overview.late += n
        if row["withdrawal_requested"]:
            overview.withdrawal_requested += n
        counts[(pk, row["review_status"])] = counts.get((pk, row["review_status"]), 0) + n
        per_day[pk][row["day"]] = per_day[pk].get(row["day"], 0) + n

    for pk, overview in calls.items():
        overview.statuses = [
            (
                status.label,
                counts.get((pk, status.value), 0),
                changelist_url(call__id__exact=pk, review_status__exact=status.value),
            )
            for status in Submission.ReviewStatus
        ]
        overview.late_url = changelist_url(call__id__exact=pk, is_late__exact=1)
        overview.withdrawals_url = changelist_url(call__id__exact=pk, withdrawal="yes")
        overview.chart = build_chart(
            per_day[pk],
            opens=timezone.localtime(overview.call.opens_at, LONDON).date(),
            deadline=timezone.localtime(overview.call.closes_at, LONDON).date(),
        )
    return list(calls.values())

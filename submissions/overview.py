"""The review overview on the admin index: per open call, where its submissions stand."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from .models import Call, Submission

LONDON = ZoneInfo("Europe/London")
CHART_WIDTH = 640
CHART_HEIGHT = 160
# Beyond this many days a bar per day is thinner than a pixel or two; bars become weeks.
MAX_DAILY_BARS = 120


@dataclass
class Bar:
    start: date
    count: int
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0


@dataclass
class Chart:
    period: str  # "day" or "week"
    bars: list[Bar]
    peak: int
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT

    @property
    def first(self) -> date:
        return self.bars[0].start

    @property
    def last(self) -> date:
        return self.bars[-1].start


@dataclass
class CallOverview:
    call: Call
    total: int = 0
    late: int = 0
    statuses: list[tuple[str, int, str]] = field(default_factory=list)  # label, count, url
    late_url: str = ""
    chart: Chart | None = None


def changelist_url(**filters) -> str:
    return reverse("admin:submissions_submission_changelist") + "?" + urlencode(filters)


def build_chart(per_day: dict[date, int]) -> Chart | None:
    if not per_day:
        return None
    first, last = min(per_day), max(per_day)
    period = "day" if (last - first).days < MAX_DAILY_BARS else "week"
    step = timedelta(days=1 if period == "day" else 7)
    if period == "week":
        first -= timedelta(days=first.weekday())  # weeks start on Monday
    starts = []
    current = first
    while current <= last:
        starts.append(current)
        current += step
    counts = dict.fromkeys(starts, 0)
    for day, n in per_day.items():
        bucket = day if period == "day" else day - timedelta(days=day.weekday())
        counts[bucket] += n
    peak = max(counts.values())
    slot = CHART_WIDTH / len(starts)
    bars = []
    for i, start in enumerate(starts):
        height = round(counts[start] / peak * (CHART_HEIGHT - 10), 2)
        bars.append(
            Bar(
                start=start,
                count=counts[start],
                x=round(i * slot, 2),
                y=round(CHART_HEIGHT - height, 2),
                width=round(max(slot * 0.8, 0.5), 2),
                height=height,
            )
        )
    return Chart(period=period, bars=bars, peak=peak)


def review_overview(at: datetime | None = None) -> list[CallOverview]:
    """Counts by review status, late counts and submissions per day, for every open call.

    One grouped query, whatever the number of submissions.
    """
    at = at or timezone.now()
    calls = {call.pk: CallOverview(call=call) for call in Call.objects.open_at(at)}
    if not calls:
        return []
    submitted = Submission.objects.filter(call__in=calls.keys(), state=Submission.State.SUBMITTED)

    # One pass over the covering index: per call, day, status and lateness.
    counts: dict[tuple[int, str], int] = {}
    per_day: dict[int, dict[date, int]] = {pk: {} for pk in calls}
    rows = (
        submitted.order_by()
        .annotate(day=TruncDate("submitted_at", tzinfo=LONDON))
        .values("call_id", "day", "review_status", "is_late")
        .annotate(n=Count("*"))
    )
    for row in rows:
        pk, n = row["call_id"], row["n"]
        overview = calls[pk]
        overview.total += n
        if row["is_late"]:
            overview.late += n
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
        overview.chart = build_chart(per_day[pk])
    return list(calls.values())

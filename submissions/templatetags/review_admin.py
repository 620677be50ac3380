"""Admin template tags for the review pages."""

from datetime import date, datetime, time, timedelta

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.db.models import Exists, Max, Min
from django.utils import formats, timezone
from django.utils.text import capfirst

from submissions.common.wording import LONDON

register = template.Library()


def review_date_hierarchy(cl) -> dict | None:
    """Django's date links, for the years, months or days that have submissions.

    The stock tag asks the database for the distinct years, months or days of the matching
    rows, which reads every one of them (over 100 ms for 100,000). Here the first and last
    come from the index, then one query asks, for each unit between them, whether any row
    falls in it: an index probe per unit, so empty years and months are not offered.
    """
    field = cl.date_hierarchy
    year_field, month_field, day_field = (f"{field}__{unit}" for unit in ("year", "month", "day"))
    year, month, day = (cl.params.get(name) for name in (year_field, month_field, day_field))
    if year and month and day:
        return date_hierarchy(cl)  # the single-day view makes no query

    def link(filters: dict) -> str:
        return cl.get_query_string(filters, [f"{field}__"])

    span = cl.queryset.aggregate(first=Min(field), last=Max(field))
    if span["first"] is None:
        return {"show": True, "back": None, "choices": []}
    first, last = timezone.localtime(span["first"]), timezone.localtime(span["last"])
    if not (year or month) and first.year == last.year:
        year = first.year
        if first.month == last.month:
            month = first.month

    if year and month:
        year, month = int(year), int(month)
        days = [date(year, month, n) for n in range(first.day, last.day + 1)]
        used = units_used(cl, field, [(d, d + timedelta(days=1)) for d in days])
        return {
            "show": True,
            "back": {"link": link({year_field: year}), "title": str(year)},
            "choices": [
                {
                    "link": link({year_field: year, month_field: month, day_field: d.day}),
                    "title": capfirst(formats.date_format(d, "MONTH_DAY_FORMAT")),
                }
                for d, is_used in zip(days, used, strict=True)
                if is_used
            ],
        }
    if year:
        year = int(year)
        months = [date(year, n, 1) for n in range(first.month, last.month + 1)]
        used = units_used(cl, field, [(m, _next_month(m)) for m in months])
        return {
            "show": True,
            "back": {"link": link({}), "title": "All dates"},
            "choices": [
                {
                    "link": link({year_field: year, month_field: m.month}),
                    "title": capfirst(formats.date_format(m, "YEAR_MONTH_FORMAT")),
                }
                for m, is_used in zip(months, used, strict=True)
                if is_used
            ],
        }
    years = list(range(first.year, last.year + 1))
    used = units_used(cl, field, [(date(n, 1, 1), date(n + 1, 1, 1)) for n in years])
    return {
        "show": True,
        "back": None,
        "choices": [
            {"link": link({year_field: str(n)}), "title": str(n)}
            for n, is_used in zip(years, used, strict=True)
            if is_used
        ],
    }


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def units_used(cl, field: str, spans: list[tuple[date, date]]) -> list[bool]:
    """For each [start, end) span of UK days, whether the list has a row in it: one query."""
    if len(spans) == 1:
        return [True]  # between the first and the last row, a single unit holds both
    matching = cl.queryset.order_by().prefetch_related(None)
    checks = {
        f"u{i}": Exists(
            matching.filter(
                **{
                    f"{field}__gte": datetime.combine(start, time(), LONDON),
                    f"{field}__lt": datetime.combine(end, time(), LONDON),
                }
            )
        )
        for i, (start, end) in enumerate(spans)
    }
    row = cl.model._default_manager.order_by().annotate(**checks).values(*checks)[:1]
    found = next(iter(row), None) or {}
    return [bool(found.get(f"u{i}")) for i in range(len(spans))]


@register.tag(name="review_date_hierarchy")
def review_date_hierarchy_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=review_date_hierarchy,
        template_name="date_hierarchy.html",
        takes_context=False,
    )

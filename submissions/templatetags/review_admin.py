"""Admin template tags for the review pages."""

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.utils import formats
from django.utils.text import capfirst

from submissions.models import tally_days
from submissions.review.access import calls_for
from submissions.review.admin.counts import tally_lookups

register = template.Library()


def review_date_hierarchy(context, cl) -> dict | None:
    """Django's date links, for the years, months or days that have submissions.

    The stock tag asks the database for the distinct years, months or days of the matching
    rows, which reads every one of them (over 500 ms for a theme among 1,000,000). Here they
    come from the tally's days (models/tally.py): exact for the list narrowed by call, review
    status, lateness or a withdrawal request; under any other filter, the days of that list
    before it, so a link may lead to no submission, never miss one.
    """
    field = cl.date_hierarchy
    year_field, month_field, day_field = (f"{field}__{unit}" for unit in ("year", "month", "day"))
    year, month, day = (cl.params.get(name) for name in (year_field, month_field, day_field))
    if year and month and day:
        return date_hierarchy(cl)  # the single-day view makes no query

    def link(filters: dict) -> str:
        return cl.get_query_string(filters, [f"{field}__"])

    request = context["request"]
    lookups, _ = tally_lookups(request.GET)
    # The chosen year and month are this tag's own levels, not filters of the days it offers.
    undated = {k: v for k, v in lookups.items() if not k.startswith("day__")}
    days = tally_days([call.pk for call in calls_for(request)], **undated)
    if not days:
        return {"show": True, "back": None, "choices": []}
    first, last = days[0], days[-1]
    if not (year or month) and first.year == last.year:
        year = first.year
        if first.month == last.month:
            month = first.month

    if year and month:
        year, month = int(year), int(month)
        shown = [d for d in days if (d.year, d.month) == (year, month)]
        return {
            "show": True,
            "back": {"link": link({year_field: year}), "title": str(year)},
            "choices": [
                {
                    "link": link({year_field: year, month_field: month, day_field: d.day}),
                    "title": capfirst(formats.date_format(d, "MONTH_DAY_FORMAT")),
                }
                for d in shown
            ],
        }
    if year:
        year = int(year)
        months = sorted({d.replace(day=1) for d in days if d.year == year})
        return {
            "show": True,
            "back": {"link": link({}), "title": "All dates"},
            "choices": [
                {
                    "link": link({year_field: year, month_field: m.month}),
                    "title": capfirst(formats.date_format(m, "YEAR_MONTH_FORMAT")),
                }
                for m in months
            ],
        }
    years = sorted({d.year for d in days})
    return {
        "show": True,
        "back": None,
        "choices": [{"link": link({year_field: str(n)}), "title": str(n)} for n in years],
    }


@register.tag(name="review_date_hierarchy")
def review_date_hierarchy_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=review_date_hierarchy,
        template_name="date_hierarchy.html",
        takes_context=True,
    )

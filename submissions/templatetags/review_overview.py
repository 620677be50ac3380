from django import template
from django.urls import reverse
from django.utils.http import urlencode

from ..review.overview import review_overview as build_overview

register = template.Library()


@register.inclusion_tag("admin/submissions/_overview.html", takes_context=True)
def review_overview(context) -> dict:
    """The overview, for staff who may see submissions; nothing for anyone else."""
    request = context["request"]
    if not request.user.has_perm("submissions.view_submission"):
        return {"overviews": None}
    changelist = reverse("admin:submissions_submission_changelist")
    return {
        "overviews": build_overview(request=request),
        "assigned_to_me_url": changelist + "?" + urlencode({"reviewer": "me"}),
        "new_for_me_url": changelist
        + "?"
        + urlencode({"reviewer": "me", "review_status__exact": "new"}),
    }

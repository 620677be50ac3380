from django import template

from ..overview import review_overview as build_overview

register = template.Library()


@register.inclusion_tag("admin/submissions/_overview.html", takes_context=True)
def review_overview(context) -> dict:
    """The overview, for staff who may see submissions; nothing for anyone else."""
    user = context["request"].user
    if not user.has_perm("submissions.view_submission"):
        return {"overviews": None}
    return {"overviews": build_overview()}

"""The toolkit authors' page of a call, in the admin: the included contributions by theme, and
the acknowledgements to paste into the toolkit, as plain text and as Markdown.
"""

from typing import TYPE_CHECKING

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from ...models import Call, Theme
from ...publishing.credits import (
    acknowledgements_markdown,
    acknowledgements_plain,
    credit_list,
    credited,
    sort_key,
)
from ..access import reviewable_calls

NO_THEME = "No theme"


def by_theme(submissions) -> list[tuple[str, list[tuple[object, str]]]]:
    """[(theme name, [(submission, credit line)])], themes by name, "No theme" last.

    A submission with several themes is listed under each of them.
    """
    groups: dict[str, list] = {}
    for submission in submissions:
        line = submission.credit_line()
        for name in [t.name for t in submission.themes.all()] or [NO_THEME]:
            groups.setdefault(name, []).append((submission, line))
    ordered = sorted(groups, key=lambda name: (name == NO_THEME, sort_key(name)))
    return [
        (name, sorted(groups[name], key=lambda entry: (not entry[1], sort_key(entry[1]))))
        for name in ordered
    ]


if TYPE_CHECKING:
    _CallAdmin = admin.ModelAdmin[Call]
else:
    _CallAdmin = object


class AcknowledgementsAdminMixin(_CallAdmin):
    """Adds /admin/submissions/call/<id>/acknowledgements/ and a link to it in the list."""

    def get_urls(self):
        view = self.admin_site.admin_view(self.acknowledgements_view)
        return [
            path(
                "<path:object_id>/acknowledgements/",
                view,
                name="submissions_call_acknowledgements",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Toolkit credits")
    def acknowledgements_link(self, obj: Call) -> str:
        url = reverse("admin:submissions_call_acknowledgements", args=[obj.pk])
        return format_html('<a href="{}">Acknowledgements</a>', url)

    def acknowledgements_view(self, request: HttpRequest, object_id: str):
        if not request.user.has_perm("submissions.view_submission"):
            raise PermissionDenied
        if not object_id.isdigit():
            raise Http404
        # Another call's page is not found, like a call that never was (access.py).
        call = get_object_or_404(reviewable_calls(request.user), pk=int(object_id))
        submissions = list(
            credited(call, "reference").prefetch_related(
                Prefetch("themes", queryset=Theme.objects.order_by("name"))
            )
        )
        credits = credit_list(submissions)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Acknowledgements: {call.title}",
            "call": call,
            # One reverse() for the page, not one per row: 5,000 rows took seconds.
            "changelist_url": reverse("admin:submissions_submission_changelist"),
            "groups": by_theme(submissions),
            "included_count": len(submissions),
            "credits": credits,
            "plain": acknowledgements_plain(call, credits),
            "markdown": acknowledgements_markdown(call, credits),
        }
        return TemplateResponse(request, "admin/submissions/call/acknowledgements.html", context)

"""The toolkit authors' page of a call, in the admin: the included contributions by theme, and
the acknowledgements to paste into the toolkit, as plain text and as Markdown.
"""

from typing import TYPE_CHECKING

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from ...common.text import whole_number
from ...models import Call, Submission, Theme, tally_count
from ...publishing.credits import (
    acknowledgements_markdown,
    acknowledgements_plain,
    credit_list,
    credited,
    sort_key,
)
from ..access import reviewable_calls

NO_THEME = "No theme"
# Up to this many included contributions the page lists each one, by theme, and shows the
# acknowledgements in text boxes; beyond, it says how many there are and offers the two files
# (300,000 rows would be megabytes of page, seconds to make: docs/benchmarks.md).
LISTED_AT_MOST = 2000
# The two downloads of the acknowledgements: how each is written, and its type.
DOWNLOADS = {
    "txt": (acknowledgements_plain, "text/plain; charset=utf-8"),
    "md": (acknowledgements_markdown, "text/markdown; charset=utf-8"),
}


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
        download = self.admin_site.admin_view(self.acknowledgements_download)
        return [
            path(
                "<path:object_id>/acknowledgements/",
                view,
                name="submissions_call_acknowledgements",
            ),
            path(
                "<int:pk>/acknowledgements/acknowledgements.<str:kind>",
                download,
                name="submissions_call_acknowledgements_download",
            ),
            *super().get_urls(),
        ]

    def acknowledgements_download(self, request: HttpRequest, pk: int, kind: str) -> HttpResponse:
        """The acknowledgements as a file to save: plain text (.txt) or Markdown (.md)."""
        if not request.user.has_perm("submissions.view_submission") or kind not in DOWNLOADS:
            raise Http404
        # Calls kept apart: only a call this member of staff reviews.
        call = get_object_or_404(reviewable_calls(request.user), pk=pk)
        credits = credit_list(list(credited(call, "reference")))
        write, content_type = DOWNLOADS[kind]
        response = HttpResponse(write(call, credits), content_type=content_type)
        filename = f"acknowledgements-{call.slug}.{kind}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @admin.display(description="Toolkit credits")
    def acknowledgements_link(self, obj: Call) -> str:
        url = reverse("admin:submissions_call_acknowledgements", args=[obj.pk])
        return format_html('<a href="{}">Acknowledgements</a>', url)

    def acknowledgements_view(self, request: HttpRequest, object_id: str):
        if not request.user.has_perm("submissions.view_submission"):
            raise PermissionDenied
        if (pk := whole_number(object_id)) is None:
            raise Http404
        # Another call's page is not found, like a call that never was (access.py).
        call = get_object_or_404(reviewable_calls(request.user), pk=pk)
        # One more than listed at most: whether they fit on the page, in the same query.
        submissions = list(credited(call, "reference")[: LISTED_AT_MOST + 1])
        if len(submissions) > LISTED_AT_MOST:
            return self.too_many_to_list(request, call)
        prefetch_related_objects(
            submissions, Prefetch("themes", queryset=Theme.objects.order_by("name"))
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
            # Tall enough for every line (up to a screenful), not Django's 10 rows.
            "text_rows": min(max(len(credits.lines) + 4, 6), 30),
            "plain": acknowledgements_plain(call, credits),
            "markdown": acknowledgements_markdown(call, credits),
        }
        return TemplateResponse(request, "admin/submissions/call/acknowledgements.html", context)

    def too_many_to_list(self, request: HttpRequest, call: Call) -> HttpResponse:
        """The page of a call with more included contributions than it lists: how many (from
        the tally, a few rows), a link to them in the list of submissions, and the files."""
        included = tally_count(
            [call.pk], review_status=Submission.ReviewStatus.INCLUDED, withdrawal_requested=False
        )
        changelist = reverse("admin:submissions_submission_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Acknowledgements: {call.title}",
            "call": call,
            "included_count": included,
            "listed_at_most": LISTED_AT_MOST,
            "included_url": (
                f"{changelist}?call__id__exact={call.pk}"
                f"&review_status__exact={Submission.ReviewStatus.INCLUDED}"
            ),
        }
        return TemplateResponse(
            request, "admin/submissions/call/acknowledgements_many.html", context
        )

"""CSV export from the submissions list: an action on the selected rows, and "Export all matching".

Both need the dedicated "Can export submissions" permission, stream the file as it is made, and
leave an ExportRecord behind. Mix ExportAdminMixin into the Submission ModelAdmin.
"""

from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR, IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, PAGE_VAR
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone

from ...common.text import whole_number
from ...common.wording import uk_time_short
from ...exports.writer import SubmissionCsv
from ...models import Call, ExportRecord, Submission, Theme
from ..access import reviewable_calls, sees_every_call
from ..history import person
from .staff_forms import StaffModelForm

EXPORT_PERMISSION = "submissions.export_submissions"


def changelist_filters(request: HttpRequest) -> dict:
    """The list's filters and search, as the query string gave them."""
    ignored = {PAGE_VAR, ERROR_FLAG, IS_POPUP_VAR}
    return {
        key: values[0] if len(values) == 1 else values
        for key, values in request.GET.lists()
        if key not in ignored
    }


def csv_download(
    request: HttpRequest,
    submissions: QuerySet[Submission],
    source: str,
    filters: dict,
) -> StreamingHttpResponse:
    """Record the export, then stream the file; the record is completed after the last row."""
    export = SubmissionCsv(submissions)
    record = ExportRecord.objects.create(
        user=request.user if request.user.is_authenticated else None,  # always, in the admin
        username=request.user.get_username(),
        source=source,
        filters=filters,
    )

    def stream() -> Iterator[bytes]:
        yield from export
        record.complete(export.row_count)

    filename = f"submissions-{timezone.localtime():%Y-%m-%d-%H%M}.csv"
    return StreamingHttpResponse(
        stream(),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            # Personal data: keep it out of caches; and tell nginx not to buffer the stream.
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        },
    )


if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

    _SubmissionAdmin = admin.ModelAdmin[Submission]
else:
    _SubmissionAdmin = object


class ExportAdminMixin(_SubmissionAdmin):
    """Adds the export action, the "Export all matching" link and its view to a ModelAdmin."""

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EXPORT_PERMISSION)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        # Added here rather than through `actions`, so the admin's own list stays its own.
        shows_actions = self.actions is not None and IS_POPUP_VAR not in request.GET
        if shows_actions and self.has_export_permission(request):
            action = self.get_action("export_csv")
            if action is not None:  # it is: the method is just below
                actions[action[1]] = action
        return actions

    @admin.action(description="Export selected submissions to CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Submission]):
        if not self.has_export_permission(request):
            raise PermissionDenied
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        all_matching = request.POST.get("select_across") == "1"
        filters = changelist_filters(request)
        filters["selected"] = "all matching" if all_matching else len(selected)
        return csv_download(request, queryset, ExportRecord.Source.ADMIN_SELECTED, filters)

    def get_urls(self):
        opts = self.model._meta
        export_url = path(
            "export/",
            self.admin_site.admin_view(self.export_view),
            name=f"{opts.app_label}_{opts.model_name}_export",
        )
        return [export_url, *super().get_urls()]

    def export_view(self, request: HttpRequest) -> HttpResponseBase:
        """Every submission the list shows with the same filters and search, on every page."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            messages.error(request, "Those filters are not valid, so nothing was exported.")
            opts = self.model._meta
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            )
        submissions = changelist.get_queryset(request)
        return csv_download(
            request,
            submissions,
            ExportRecord.Source.ADMIN_ALL_MATCHING,
            changelist_filters(request),
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        extra_context = {
            **(extra_context or {}),
            "can_export_submissions": self.has_export_permission(request),
        }
        return super().changelist_view(request, extra_context)


YES_NO = {"1": "Yes", "0": "No", "yes": "Yes", "no": "No", "True": "Yes", "False": "No"}
# Each filter an export can carry: its name in words, and its values in words where they are
# codes. Calls and reviewers, stored as ids, are named from the database.
FILTER_WORDS: dict[str, tuple[str, dict[str, str]]] = {
    # In the order they are read out (PostgreSQL's jsonb does not keep the order they came in).
    "call__id__exact": ("Call", {}),
    "call": ("Call", {}),
    "state": ("State", {"draft": "Drafts", "all": "All", "submitted": "Submitted"}),
    "review_status__exact": ("Review status", dict(Submission.ReviewStatus.choices)),
    "status": ("Review status", dict(Submission.ReviewStatus.choices)),
    "is_late__exact": ("Late", YES_NO),
    "credit_preference__exact": ("Credit preference", dict(Submission.Credit.choices)),
    "has_files": ("Has files", YES_NO),
    "theme": ("Theme", {"none": "No theme"}),
    "reviewer": ("Assigned reviewer", {"me": "Me (who exported)", "nobody": "Nobody"}),
    "submitted_from": ("Submitted from", {}),
    "submitted_to": ("Submitted to", {}),
    "submitted_at__year": ("Year", {}),
    "submitted_at__month": ("Month", {}),
    "submitted_at__day": ("Day", {}),
    "since": ("Submitted since", {}),
    "q": ("Search", {}),
    "o": ("Sorted by column", {}),
    "selected": ("Selected", {"all matching": "all matching"}),
}
ORDER = {key: n for n, key in enumerate(FILTER_WORDS)}


def describe_filters(filters: dict, names: dict | None = None, exporter=None) -> str:
    """An export's filters as a reviewer would say them: "Review status: Shortlisted".

    `names` caches the calls, themes and reviewers looked up, across the rows of one page.
    A call that `exporter` (who made the export) does not review is not named: a reviewer who
    typed another call's id in a filter exported nothing of it and reads nothing of it here.
    """
    if not filters:
        return "None (everything)"
    names = {} if names is None else names
    parts = []
    for key, value in sorted(filters.items(), key=lambda item: ORDER.get(item[0], len(ORDER))):
        label, words = FILTER_WORDS.get(key, (key, {}))
        values = value if isinstance(value, list) else [value]
        shown = []
        for v in map(str, values):
            if v in words:
                shown.append(words[v])
                continue
            if key in ("call__id__exact", "call") and not _reviews(exporter, v, names):
                shown.append(f"{v}, not a call {exporter.username} reviews")
                continue
            if (key, v) not in names:
                names[key, v] = _named(key, v)
            shown.append(names[key, v])
        parts.append(f"{label}: {', '.join(shown)}")
    return "; ".join(parts)


def _reviews(exporter, call_id: str, names: dict) -> bool:
    """Whether the exporter (None: a command's export) may read the call of this id; their
    calls are looked up once per page, in `names`."""
    if exporter is None or sees_every_call(exporter):
        return True
    if ("reviews", exporter.pk) not in names:
        names["reviews", exporter.pk] = {
            str(pk) for pk in reviewable_calls(exporter).values_list("pk", flat=True)
        }
    return call_id in names["reviews", exporter.pk]


def _named(key: str, value: str) -> str:
    """Calls, themes and reviewers by name; one small lookup, only when the filter has one."""
    if whole_number(value) is None:
        return value
    named: dict[str, type[Model]] = {
        "call__id__exact": Call,
        "theme": Theme,
        "reviewer": get_user_model(),
    }
    model = named.get(key)
    # Each model's default manager is its `objects`.
    found = model._default_manager.filter(pk=int(value)).first() if model else None
    if found is None:
        return value
    return person(cast("AbstractUser", found)) if key == "reviewer" else str(found)


@admin.register(ExportRecord)
class ExportRecordAdmin(admin.ModelAdmin):
    """The audit trail of exports: readable by staff with view permission, changeable by nobody."""

    form = StaffModelForm

    list_display = ["started", "username", "source", "filters_in_words", "row_count", "completed"]
    list_filter = ["source", "started_at"]
    search_fields = ["username"]
    list_select_related = ["user"]
    date_hierarchy = "started_at"
    fields = ["started", "username", "source", "filters_in_words", "row_count", "completed"]
    readonly_fields = cast(list[str], fields)  # the list above, not the base's wider type

    @admin.display(description="Started (UK time)", ordering="started_at")
    def started(self, obj: ExportRecord) -> str:
        return uk_time_short(obj.started_at)

    @admin.display(description="Completed (UK time)", ordering="completed_at")
    def completed(self, obj: ExportRecord) -> str:
        return uk_time_short(obj.completed_at) or "Not completed"

    @admin.display(description="Filters")
    def filters_in_words(self, obj: ExportRecord) -> str:
        return describe_filters(obj.filters, exporter=obj.user)

    def get_list_display(self, request: HttpRequest) -> list:
        names: dict = {}  # one page's lookups of calls, themes and reviewers, made once each

        @admin.display(description="Filters")
        def filters_in_words(obj: ExportRecord) -> str:
            return describe_filters(obj.filters, names, exporter=obj.user)

        return [filters_in_words if c == "filters_in_words" else c for c in self.list_display]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExportRecord]:
        # A record names the calls exported; staff who do not review every call see their own.
        records = super().get_queryset(request)
        return records if sees_every_call(request.user) else records.filter(user=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

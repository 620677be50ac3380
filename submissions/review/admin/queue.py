"""The review queue: "Save and review next" opens the next submission of the list being worked.

The change page carries the list's filters, search and sort in `_changelist_filters` (the
admin's preserved filters). The next submission is the one after this one in that list as it
stood before the save, so a change that takes this one out of the list (a new one marked
"in review") still moves on to the one that followed it. The list, and so the queue, is oldest
first unless the reviewer sorts it by a column: late ones come last, not first.
"""

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import SuspiciousOperation
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils.http import urlencode

if TYPE_CHECKING:
    from ...models import Submission

    _SubmissionAdmin = admin.ModelAdmin[Submission]
else:
    _SubmissionAdmin = object

REVIEW_NEXT = "_review_next"
# How the list and the queue are ordered when the reviewer has not sorted by a column.
DEFAULT_ORDER = "oldest first"
SORTED_ORDER = "in the order you sorted the list"
# How far down the list a submission's place is counted ("n of N"), so that opening one never
# costs a count of the whole table.
QUEUE_COUNT_LIMIT = 1000


class QueueChangeList(ChangeList):
    """The list's filtered, ordered queryset, without counting or fetching a page of it."""

    def get_results(self, request):
        pass


def _parameters(list_filter) -> set[str]:
    """The query-string parameters a list filter reads (a field's, or a filter class's)."""
    if isinstance(list_filter, str):
        return {f"{list_filter}__exact", f"{list_filter}__isnull", f"{list_filter}__id__exact"}
    if issubclass(list_filter, admin.SimpleListFilter):
        return {str(list_filter.parameter_name)}
    return set(getattr(list_filter, "params", ()))


def _has_default(list_filter) -> bool:
    return not isinstance(list_filter, str) and getattr(list_filter, "default", None) is not None


@dataclass(frozen=True)
class QueuePlace:
    """Where a submission stands in the list the reviewer came from: "3 of 50, oldest first".

    `number` and `total` are None past QUEUE_COUNT_LIMIT: "3 of more than 1,000".
    """

    number: int | None
    total: int | None
    order: str
    list_url: str

    @property
    def limit(self) -> int:
        return QUEUE_COUNT_LIMIT


class ReviewQueueMixin(_SubmissionAdmin):
    """For the Submission ModelAdmin: the "Save and review next" button and where it leads."""

    def get_changelist(self, request, **kwargs):
        if getattr(request, "_review_queue", False):
            return QueueChangeList
        return super().get_changelist(request, **kwargs)

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if not getattr(request, "_review_queue", False):
            return filters
        # The queue needs only the filters in use (and any with a default, like the state):
        # the others would each read their choices (themes, staff, calls) for nothing.
        used = set(request.GET)
        return [f for f in filters if _has_default(f) or _parameters(f) & used]

    def queue_filters(self, request: HttpRequest) -> str:
        return request.GET.get("_changelist_filters", "")

    def queue_list(self, request: HttpRequest) -> tuple[QuerySet, QueryDict] | None:
        """The list the reviewer came from, filtered and ordered, and its query string; None
        for filters a hand-made URL got wrong."""
        list_request = copy.copy(request)
        list_request.method = "GET"
        list_request.GET = QueryDict(self.queue_filters(request))
        list_request.POST = QueryDict()
        list_request._review_queue = True  # type: ignore[attr-defined]  # read by get_changelist
        try:
            changelist = self.get_changelist_instance(list_request)
        except (IncorrectLookupParameters, SuspiciousOperation):
            return None
        return changelist.queryset.prefetch_related(None), list_request.GET

    @staticmethod
    def in_default_order(params: QueryDict, submission) -> bool:
        """Whether the list is in its own order (oldest first) over submitted ones only, where
        "before" and "after" are a comparison on the index instead of every id in turn."""
        submitted_only = params.get("state", "submitted") == "submitted"
        return ORDER_VAR not in params and submitted_only and submission.submitted_at is not None

    @staticmethod
    def after(submission) -> Q:
        at, pk = submission.submitted_at, submission.pk
        return Q(submitted_at__gt=at) | Q(submitted_at=at, pk__gt=pk)

    def next_in_queue(self, request: HttpRequest, submission) -> int | None:
        """The id after this submission in the list the reviewer came from."""
        found = self.queue_list(request)
        if found is None:
            return None  # bad filters in a hand-made URL: no queue, back to the list
        queryset, params = found
        if self.in_default_order(params, submission):
            # One index probe, not every id.
            return queryset.filter(self.after(submission)).values_list("pk", flat=True).first()
        # Sorted by a column, or drafts: the ids in the list's order (one query, all of them).
        pks = list(queryset.values_list("pk", flat=True))
        if submission.pk in pks:
            rest = pks[pks.index(submission.pk) + 1 :]
            return rest[0] if rest else None
        return next((other for other in pks if other != submission.pk), None)

    def queue_place(self, request: HttpRequest, submission) -> QueuePlace | None:
        """This submission's place in the list it was opened from, or None when it is not in it.

        Counted only as far as the first QUEUE_COUNT_LIMIT of the list: one query reads their ids
        in the list's order (an index's first entries), however long the list; past that, the
        place says "more than" instead of counting the whole table on every page.
        """
        found = self.queue_list(request)
        if found is None:
            return None
        queryset, params = found
        opts = self.opts
        list_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        if params:
            list_url += "?" + params.urlencode()
        order = SORTED_ORDER if ORDER_VAR in params else DEFAULT_ORDER
        head = list(queryset.values_list("pk", flat=True)[: QUEUE_COUNT_LIMIT + 1])
        total = len(head) if len(head) <= QUEUE_COUNT_LIMIT else None
        if submission.pk in head[:QUEUE_COUNT_LIMIT]:
            number: int | None = head.index(submission.pk) + 1
        elif total is not None or not queryset.filter(pk=submission.pk).exists():
            return None
        else:
            number = None  # further down a long list
        return QueuePlace(number, total, order, list_url)

    def find_next_before_saving(self, request: HttpRequest, obj, change: bool) -> None:
        """Called by save_model before it writes: the change may take `obj` out of the list."""
        if change and REVIEW_NEXT in request.POST:
            obj._queue_next = self.next_in_queue(request, obj)

    def response_change(self, request, obj):
        if REVIEW_NEXT not in request.POST:
            return super().response_change(request, obj)
        opts = self.opts
        filters = self.queue_filters(request)
        next_pk = getattr(obj, "_queue_next", None)
        self.message_user(request, f"{obj} saved.", messages.SUCCESS)
        if next_pk is None:
            self.message_user(request, "That was the last submission in this list.")
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            return HttpResponseRedirect(f"{url}?{filters}" if filters else url)
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[next_pk])
        if filters:
            url += "?" + urlencode({"_changelist_filters": filters})
        return HttpResponseRedirect(url)

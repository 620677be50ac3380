"""The review queue: "Save and review next" opens the next submission of the list being worked.

The change page carries the list's filters, search and sort in `_changelist_filters` (the
admin's preserved filters). The next submission is the one after this one in that list as it
stood before the save, so a change that takes this one out of the list (a new one marked
"in review") still moves on to the one that followed it.
"""

import copy
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import SuspiciousOperation
from django.db.models import Q
from django.http import HttpRequest, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils.http import urlencode

if TYPE_CHECKING:
    from ...models import Submission

    _SubmissionAdmin = admin.ModelAdmin[Submission]
else:
    _SubmissionAdmin = object

REVIEW_NEXT = "_review_next"


class QueueChangeList(ChangeList):
    """The list's filtered, ordered queryset, without counting or fetching a page of it."""

    def get_results(self, request):
        pass


class ReviewQueueMixin(_SubmissionAdmin):
    """For the Submission ModelAdmin: the "Save and review next" button and where it leads."""

    def get_changelist(self, request, **kwargs):
        if getattr(request, "_review_queue", False):
            return QueueChangeList
        return super().get_changelist(request, **kwargs)

    def queue_filters(self, request: HttpRequest) -> str:
        return request.GET.get("_changelist_filters", "")

    def next_in_queue(self, request: HttpRequest, submission) -> int | None:
        """The id after this submission in the list the reviewer came from."""
        pk = submission.pk
        list_request = copy.copy(request)
        list_request.method = "GET"
        list_request.GET = QueryDict(self.queue_filters(request))
        list_request.POST = QueryDict()
        list_request._review_queue = True  # type: ignore[attr-defined]  # read by get_changelist
        try:
            changelist = self.get_changelist_instance(list_request)
        except (IncorrectLookupParameters, SuspiciousOperation):
            # Bad filters in a hand-made URL: no queue, back to the list.
            return None
        queryset = changelist.queryset.prefetch_related(None)
        at = submission.submitted_at
        if ORDER_VAR not in list_request.GET and at is not None:
            # The list's own order (newest first, then id): one index probe, not every id.
            after = Q(submitted_at__lt=at) | Q(submitted_at=at, pk__lt=pk)
            return queryset.filter(after).values_list("pk", flat=True).first()
        # Sorted by a column, or drafts: the ids in the list's order (one query, all of them).
        pks = list(queryset.values_list("pk", flat=True))
        if pk in pks:
            rest = pks[pks.index(pk) + 1 :]
            return rest[0] if rest else None
        return next((other for other in pks if other != pk), None)

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

"""Outgoing emails in the admin: staff see what is pending or failed, and retry a failed one."""

from typing import cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from ...models import OutgoingEmail
from ...outbox import queue as outbox
from ..access import of_reviewable_calls
from .filters import CallFilter


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "state",
        "submission_link",
        "call",
        "attempts",
        "next_try",
        "sent_at",
        "last_error_short",
    ]
    list_filter = ["state", "kind", CallFilter]  # the calls this user reviews
    list_select_related = ["call", "submission"]
    search_fields = ["submission__reference"]
    date_hierarchy = "created_at"
    actions = ["retry_failed"]
    fields = [
        "kind",
        "state",
        "call",
        "submission_link",
        "to",
        "created_at",
        "attempts",
        "last_tried_at",
        "next_try",
        "retry_until",
        "sent_at",
        "last_error",
        "message_id",
    ]
    readonly_fields = cast(list[str], fields)  # the list above, not the base's wider type

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutgoingEmail]:
        # An email belongs to its call: kept apart like the call's submissions (access.py).
        return super().get_queryset(request).filter(of_reviewable_calls(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Submission")
    def submission_link(self, obj: OutgoingEmail) -> str:
        if obj.submission is None:
            return "-"
        url = reverse("admin:submissions_submission_change", args=[obj.submission_id])
        return format_html('<a href="{}">{}</a>', url, obj.submission)

    @admin.display(description="Next try", ordering="next_try_at")
    def next_try(self, obj: OutgoingEmail):
        return obj.next_try_at if obj.state == OutgoingEmail.State.PENDING else None

    @admin.display(description="Last error")
    def last_error_short(self, obj: OutgoingEmail) -> str:
        return obj.last_error[:80]

    @admin.action(description="Retry selected failed emails", permissions=["change"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet) -> None:
        retried = sum(outbox.retry(email) for email in queryset)
        skipped = queryset.count() - retried
        self.message_user(request, f"{retried} queued to send again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} skipped: only failed emails can be retried.", messages.WARNING
            )

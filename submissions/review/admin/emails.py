"""Outgoing emails in the admin: staff find one by address or reference, read what it says,
retry a failed one, and send one again (with a new link where it carries one)."""

import logging
from typing import cast

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from ...models import OutgoingEmail
from ...outbox import queue as outbox
from ...outbox.render import build_message
from ..access import of_reviewable_calls
from .filters import CallFilter
from .staff_forms import StaffModelForm

logger = logging.getLogger(__name__)
Kind = OutgoingEmail.Kind
# What "Send again" does to the link an email carries, in the words of the button's hint.
RESEND_NOTES = {
    Kind.RECEIPT: "The copy has a new link to the status page; the old link stops working once "
    "it has been sent.",
    Kind.STATUS_LINK: "The copy has a new link to the status page; the old link stops working "
    "once it has been sent.",
    Kind.PUBLISHED: "The copy has a new link to the status page; the old link stops working "
    "once it has been sent.",
    Kind.RESUME_LINK: "The copy has a new link to the draft; the old link stops working at once.",
}


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    form = StaffModelForm
    list_display = [
        "created_at",
        "kind",
        "recipients_short",
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
    # An address (or part of one) and a reference; every word must match one of them.
    search_fields = ["to", "submission__reference"]
    search_help_text = "An email address (or part of one), or a submission's reference."
    date_hierarchy = "created_at"
    actions = ["retry_failed"]
    fields = [
        "kind",
        "state",
        "call",
        "submission_link",
        "to",
        "subject",
        "body",
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

    def get_urls(self):
        send_again = self.admin_site.admin_view(require_POST(self.send_again_view))
        return [
            path("<int:pk>/send-again/", send_again, name="submissions_outgoingemail_send_again"),
            *super().get_urls(),
        ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        email = self.get_object(request, object_id)
        # Nothing on it is edited: "Outgoing email", not "Change outgoing email".
        extra = {"title": "Outgoing email", **(extra_context or {})}
        if email is not None and self.has_change_permission(request, email):
            extra["send_again_url"] = reverse(
                "admin:submissions_outgoingemail_send_again", args=[email.pk]
            )
            extra["send_again_note"] = RESEND_NOTES.get(email.kind, "")
        return super().change_view(request, object_id, form_url, extra)

    def send_again_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """POST: queue a copy of this email, in one transaction with any link it replaces."""
        email = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, email):
            raise PermissionDenied
        with transaction.atomic():
            copy = outbox.send_again(email)
        if copy is None:
            self.message_user(
                request,
                "Not sent again: what it was about has gone (a draft since sent, or a "
                "submission erased), or its address with it.",
                messages.ERROR,
            )
            return HttpResponseRedirect(
                reverse("admin:submissions_outgoingemail_change", args=[email.pk])
            )
        self.message_user(
            request, f"Queued to send again to {', '.join(copy.recipients)}.", messages.SUCCESS
        )
        return HttpResponseRedirect(
            reverse("admin:submissions_outgoingemail_change", args=[copy.pk])
        )

    @admin.display(description="To", ordering="to")
    def recipients_short(self, obj: OutgoingEmail) -> str:
        recipients = obj.recipients
        more = f" and {len(recipients) - 1} more" if len(recipients) > 1 else ""
        return f"{recipients[0]}{more}" if recipients else ""

    @admin.display(description="Subject")
    def subject(self, obj: OutgoingEmail) -> str:
        message = self._message(obj)
        return str(message.subject) if message else "-"

    @admin.display(description="What it says")
    def body(self, obj: OutgoingEmail) -> str:
        # The text part as it renders now; staff never see a private link (preview).
        message = self._message(obj)
        if message is None:
            return "It can no longer be shown: what it was about has changed or gone."
        return format_html('<pre class="email-body">{}</pre>', message.body)

    def _message(self, obj: OutgoingEmail) -> EmailMessage | None:
        # Rendered once per page, for both the subject and the body.
        if not hasattr(obj, "_preview"):
            try:
                preview: EmailMessage | None = build_message(obj, preview=True)
            except Exception:  # e.g. a digest's period no longer readable
                logger.exception("Could not render email %s for the admin", obj.pk)
                preview = None
            obj._preview = preview  # type: ignore[attr-defined]  # a per-object cache
        return obj._preview  # type: ignore[attr-defined]  # set above

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

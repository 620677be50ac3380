"""The outbox: every email is a row, queued in the transaction that gives the reason for it."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from .call import Call
from .submission import Submission


def default_retry_until() -> datetime:
    return timezone.now() + timedelta(hours=settings.EMAIL_RETRY_HOURS)


class OutgoingEmail(models.Model):
    """One email, queued in the transaction that gives the reason for it.

    The task worker (`manage.py db_worker`) renders and sends it, and tries again with backoff
    until `retry_until`; then it is marked failed, for staff to retry from the admin.
    See submissions/emails.py.
    """

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt to the contributor"
        NOTIFICATION = "notification", "New submission, to staff"
        DIGEST = "digest", "Daily digest, to staff"
        RESUME_LINK = "resume_link", "Link to come back to a draft"
        PUBLISHED = "published", "Contribution published, to the contributor"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="outgoing_emails")
    # Erasing a submission erases its emails too.
    submission = models.ForeignKey(
        Submission,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outgoing_emails",
    )
    to = models.TextField(help_text="One address per line.")
    # What the email needs besides its submission or call, e.g. the period of a digest.
    params = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_try_at = models.DateTimeField(default=timezone.now)
    retry_until = models.DateTimeField(default=default_retry_until)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_tried_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_try_at"], name="outgoingemail_queue")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display().lower()})"

    @property
    def recipients(self) -> list[str]:
        return [line.strip() for line in self.to.splitlines() if line.strip()]

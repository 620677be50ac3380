"""The outbox: every email is a row, queued in the transaction that gives the reason for it."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from .call import Call
from .submission import Submission

# The kinds queued at most once for a submission (the constraint below).
ONCE_PER_SUBMISSION = ["toolkit_published", "thank_you", "withdrawal_requested"]


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
        TOOLKIT_PUBLISHED = "toolkit_published", "Toolkit published, to a contributor in it"
        THANK_YOU = "thank_you", "Thank you and the outcome, to another contributor"
        WITHDRAWAL_REQUESTED = "withdrawal_requested", "Withdrawal requested, to staff"
        ERASED = "erased", "Submission erased, to its contributor"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # The reason went before it could be sent (a contribution withdrawn meanwhile).
        CANCELLED = "cancelled", "Not needed any more"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="outgoing_emails")
    # Erasing a submission erases its emails too; the email telling its contributor so is
    # queued without a submission (Kind.ERASED), and its address is blanked once it is sent.
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
        constraints = [
            # Whoever presses the button twice, these go once per submission: the database
            # says so too, beside the conditional UPDATEs that queue them.
            models.UniqueConstraint(
                fields=["submission", "kind"],
                condition=models.Q(kind__in=ONCE_PER_SUBMISSION),
                name="outgoingemail_once_per_submission",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display().lower()})"

    @property
    def recipients(self) -> list[str]:
        return [line.strip() for line in self.to.splitlines() if line.strip()]

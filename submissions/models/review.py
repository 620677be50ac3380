"""What staff did: each change to a submission's review, and each export."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from .submission import Submission


class ExportRecord(models.Model):
    """Who exported which submissions, when, and how many rows the file held."""

    class Source(models.TextChoices):
        ADMIN_SELECTED = "admin_selected", "Admin: selected submissions"
        ADMIN_ALL_MATCHING = "admin_all_matching", "Admin: all matching"
        COMMAND = "command", "Command line"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="submission_exports",
    )
    # Kept as text too: the record must outlive the account, and the command has no user.
    username = models.CharField(max_length=150)
    source = models.CharField(max_length=20, choices=Source.choices)
    filters = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    # Both stay empty if the download was cut off before the last row.
    completed_at = models.DateTimeField(null=True, blank=True)
    row_count = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Export by {self.username} at {self.started_at:%Y-%m-%d %H:%M}"

    def complete(self, row_count: int, at: datetime | None = None) -> None:
        """Mark the file as sent in full, with its number of rows."""
        self.completed_at = at or timezone.now()
        self.row_count = row_count
        self.save(update_fields=["completed_at", "row_count"])


class ReviewChange(models.Model):
    """One change to one review field: who, when, from what to what.

    Values are stored as the words a reviewer saw, so the record still reads correctly after a
    theme is renamed or a user is removed.
    """

    class Field(models.TextChoices):
        REVIEW_STATUS = "review_status", "Review status"
        THEMES = "themes", "Themes"
        ASSIGNED_REVIEWER = "assigned_reviewer", "Assigned reviewer"
        REVIEWER_NOTES = "reviewer_notes", "Reviewer notes"
        WITHHELD_FROM_OPEN_DATA = "withheld_from_open_data", "Withheld from publication"
        # By a call manager, before the contribution is first released (models/releases.py).
        REDACTION = "redaction", "Redaction"
        # Changed by the contributor on their status page.
        NAME = "name", "Name"
        ORGANISATION = "organisation", "Organisation"
        ORCID = "orcid", "ORCID iD"
        CREDIT_PREFERENCE = "credit_preference", "Credit preference"
        WITHDRAWAL_REQUESTED = "withdrawal_requested", "Withdrawal requested"

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="review_changes"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_by_name = models.CharField(max_length=150, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)
    field = models.CharField(max_length=30, choices=Field.choices)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["submission", "-changed_at"], name="reviewchange_submission"),
        ]

    def __str__(self) -> str:
        return f"{self.get_field_display()} of {self.submission_id} at {self.changed_at}"

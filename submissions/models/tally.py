"""How many submitted submissions there are, by call, UK day, review status, lateness and
withdrawal request: what the review overview and the submissions list count from.

On PostgreSQL, statement triggers made by migration 0022 keep these rows in step with every
write to the submissions table (the journey's submit, the admin's saves and bulk actions,
deletions and erasure, COPY), in the writing transaction: a count is never ahead of or behind
the rows it counts, and reading it costs a few rows however many submissions there are.
Elsewhere (SQLite, the quick start) the table stays empty and `tally_rows()` counts the same
rows from the submissions themselves.
"""

from collections.abc import Iterable
from datetime import date

from django.db import connections, models
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from ..common.wording import LONDON
from .call import Call
from .submission import Submission

# What a tally row is counted by, in the order the triggers lock rows (see the migration).
TALLY_KEYS = ("call_id", "day", "review_status", "is_late", "withdrawal_requested")


class SubmissionTally(models.Model):
    """The number of submitted submissions that share a call, UK day, status and flags.

    Written only by the database's triggers; a row whose submissions have all gone stays at 0.
    """

    # No foreign key in the database: checking one would take a share lock on the call's row,
    # which a submit holds for update while its trigger waits for a tally row, and so deadlock
    # with a bulk review change (tests/review/test_overview_counts.py). Django still deletes a
    # call's tally with the call; the unique key's index serves lookups by call.
    call = models.ForeignKey(
        Call, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    # The UK day of submitted_at, as the overview's chart and the date links count days.
    day = models.DateField(null=True)
    review_status = models.CharField(max_length=20, choices=Submission.ReviewStatus.choices)
    is_late = models.BooleanField()
    withdrawal_requested = models.BooleanField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["call", "day", "review_status", "is_late", "withdrawal_requested"],
                name="submission_tally_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.n} on {self.day} ({self.review_status})"


def kept_by_triggers(using: str = "default") -> bool:
    """Whether the database keeps the tally (PostgreSQL), rather than counting on each read."""
    return connections[using].vendor == "postgresql"


def tally(call_ids: Iterable[int]) -> tuple[models.QuerySet, models.Aggregate]:
    """These calls' tally and the aggregate that counts it: SubmissionTally's rows and Sum("n")
    on PostgreSQL; elsewhere the submitted submissions, with the tally's fields annotated, and
    Count. Both take the same lookups (call, day, review_status, is_late, withdrawal_requested).
    """
    call_ids = list(call_ids)
    if kept_by_triggers():
        return SubmissionTally.objects.filter(call_id__in=call_ids), Sum("n")
    submitted = Submission.objects.filter(call_id__in=call_ids, state=Submission.State.SUBMITTED)
    annotated = submitted.order_by().annotate(
        day=TruncDate("submitted_at", tzinfo=LONDON),
        withdrawal_requested=models.ExpressionWrapper(
            models.Q(withdrawal_requested_at__isnull=False), output_field=models.BooleanField()
        ),
    )
    return annotated, Count("pk")


def tally_rows(call_ids: Iterable[int]) -> list[dict]:
    """The tally of these calls: one dict per key (TALLY_KEYS) with its count `n` (never 0)."""
    rows, total = tally(call_ids)
    grouped = rows.order_by().values(*TALLY_KEYS).annotate(total=total)
    return [
        {**{key: row[key] for key in TALLY_KEYS}, "n": row["total"]}
        for row in grouped
        if row["total"]
    ]


def tally_count(call_ids: Iterable[int], **lookups) -> int:
    """How many submitted submissions of these calls match `lookups` on the tally's fields,
    which mean on a tally row what they mean on a submission (day: its UK day)."""
    rows, total = tally(call_ids)
    return rows.filter(**lookups).aggregate(total=total)["total"] or 0


def tally_days(call_ids: Iterable[int], **lookups) -> list[date]:
    """The UK days on which submissions of these calls matching `lookups` were made, in order."""
    rows, total = tally(call_ids)
    days = rows.filter(**lookups).order_by().values("day").annotate(total=total)
    return sorted(row["day"] for row in days if row["total"] and row["day"] is not None)

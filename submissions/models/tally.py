"""How many submitted submissions there are, by call, UK day, review status, lateness and
withdrawal request: what the review overview and the submissions list count from.

On PostgreSQL, statement triggers made by migration 0017 keep these rows in step with every
write to the submissions table (the journey's submit, the admin's saves and bulk actions,
deletions and erasure, COPY), in the writing transaction: a count is never ahead of or behind
the rows it counts, and reading it costs a few rows however many submissions there are.
Elsewhere (SQLite, the quick start) the table stays empty and `tally_rows()` counts the same
rows from the submissions themselves.
"""

from collections.abc import Iterable

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


def tally_rows(call_ids: Iterable[int]) -> list[dict]:
    """The tally of these calls: one dict per key (TALLY_KEYS) with its count `n` (never 0).

    From the tally table on PostgreSQL; elsewhere, grouped from the submitted submissions.
    """
    call_ids = list(call_ids)
    if kept_by_triggers():
        rows = (
            SubmissionTally.objects.filter(call_id__in=call_ids)
            .values(*TALLY_KEYS)
            .annotate(total=Sum("n"))
        )
    else:
        rows = (
            Submission.objects.filter(call_id__in=call_ids, state=Submission.State.SUBMITTED)
            .order_by()
            .annotate(
                day=TruncDate("submitted_at", tzinfo=LONDON),
                withdrawal_requested=models.ExpressionWrapper(
                    models.Q(withdrawal_requested_at__isnull=False),
                    output_field=models.BooleanField(),
                ),
            )
            .values(*TALLY_KEYS)
            .annotate(total=Count("*"))
        )
    return [
        {**{key: row[key] for key in TALLY_KEYS}, "n": row["total"]}
        for row in rows.order_by()
        if row["total"]
    ]


def tally_count(call_ids: Iterable[int], **lookups) -> int:
    """How many submitted submissions of these calls match `lookups` on the tally's own fields
    (call, review_status, is_late), which mean on a tally row what they mean on a submission."""
    call_ids = list(call_ids)
    if kept_by_triggers():
        rows = SubmissionTally.objects.filter(call_id__in=call_ids, **lookups)
        return rows.aggregate(total=Sum("n"))["total"] or 0
    submitted = Submission.objects.filter(state=Submission.State.SUBMITTED)
    return submitted.filter(call_id__in=call_ids, **lookups).count()

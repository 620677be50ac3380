"""Staff review of submissions: changing the review fields and keeping their history."""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.db.models import QuerySet

from ..models import ReviewChange, Submission

# The fields staff change on a submission's page; the other ReviewChange fields are changed
# by the contributor on their status page (submissions/status.py).
REVIEW_FIELDS = (
    ReviewChange.Field.REVIEW_STATUS,
    ReviewChange.Field.THEMES,
    ReviewChange.Field.ASSIGNED_REVIEWER,
    ReviewChange.Field.REVIEWER_NOTES,
    ReviewChange.Field.WITHHELD_FROM_OPEN_DATA,
)


def person(user: AbstractUser | None) -> str:
    """How a member of staff is named on review pages."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def review_snapshot(submission: Submission, themes: Iterable | None = None) -> dict[str, str]:
    """The review fields as a reviewer reads them, to compare before and after a change."""
    themes = submission.themes.all() if themes is None else themes
    return {
        "review_status": submission.get_review_status_display(),
        "themes": ", ".join(sorted(theme.name for theme in themes)),
        "assigned_reviewer": person(submission.assigned_reviewer),
        "reviewer_notes": submission.reviewer_notes,
        "withheld_from_open_data": "Yes" if submission.withheld_from_open_data else "No",
    }


def record_review_changes(
    submission: Submission, before: dict[str, str], after: dict[str, str], by
) -> list[ReviewChange]:
    changes = [
        ReviewChange(
            submission=submission,
            changed_by=by,
            changed_by_name=person(by),
            field=field,
            old_value=before[field],
            new_value=after[field],
        )
        for field in REVIEW_FIELDS
        if before[field] != after[field]
    ]
    return ReviewChange.objects.bulk_create(changes)


def set_review_status(queryset: QuerySet[Submission], status: str, by) -> int:
    """Move every selected submission to `status`, recording each change. Returns how many."""
    new_label = Submission.ReviewStatus(status).label
    with transaction.atomic():
        rows = list(
            queryset.exclude(review_status=status)
            .select_for_update(of=("self",))
            .values_list("pk", "review_status")
        )
        pks = [pk for pk, _ in rows]
        Submission.objects.filter(pk__in=pks).update(review_status=status)
        ReviewChange.objects.bulk_create(
            ReviewChange(
                submission_id=pk,
                changed_by=by,
                changed_by_name=person(by),
                field=ReviewChange.Field.REVIEW_STATUS,
                old_value=Submission.ReviewStatus(old).label,
                new_value=new_label,
            )
            for pk, old in rows
        )
    return len(rows)


def assign_reviewer(queryset: QuerySet[Submission], reviewer, by) -> int:
    """Assign every selected submission to `reviewer` (None to unassign). Returns how many."""
    reviewer_id = reviewer.pk if reviewer else None
    with transaction.atomic():
        rows = list(
            queryset.exclude(assigned_reviewer_id=reviewer_id)
            .select_for_update(of=("self",))
            .values_list("pk", "assigned_reviewer_id")
        )
        previous = get_user_model().objects.in_bulk({old for _, old in rows if old})
        Submission.objects.filter(pk__in=[pk for pk, _ in rows]).update(assigned_reviewer=reviewer)
        ReviewChange.objects.bulk_create(
            ReviewChange(
                submission_id=pk,
                changed_by=by,
                changed_by_name=person(by),
                field=ReviewChange.Field.ASSIGNED_REVIEWER,
                old_value=person(previous.get(old)),
                new_value=person(reviewer),
            )
            for pk, old in rows
        )
    return len(rows)

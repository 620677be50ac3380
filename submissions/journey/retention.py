"""When an unfinished draft goes: the one retention policy, for the draft and its files alike.

A draft without contributor details (no email yet) goes a day after it was last saved; any
other draft goes its call's `draft_retention_days` (30 by default) after the call's deadline,
or after it was last saved if that is later (a call that takes late submissions keeps a draft
someone is still working on). Its files go with it: `manage.py sweep_drafts` deletes both, and
`manage.py sweep_files` removes only stored files no record points to.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet

from ..models import Call, Submission

# A draft with no email can never be continued from a link: it is litter after a day.
BARE_DRAFT_KEPT = timedelta(days=1)
BATCH = 500


def expired_drafts(now: datetime) -> QuerySet[Submission]:
    """Drafts past their keeping time at `now`; re-evaluated under the row lock when deleting."""
    expired = Q(email="", updated_at__lt=now - BARE_DRAFT_KEPT)
    for call in Call.objects.only("pk", "closes_at", "draft_retention_days"):
        cutoff = now - timedelta(days=call.draft_retention_days)
        if call.closes_at < cutoff:
            expired |= Q(call=call, updated_at__lt=cutoff)
    return Submission.objects.filter(expired, state=Submission.State.DRAFT)


def delete_expired_drafts(now: datetime) -> tuple[int, int]:
    """Delete the expired drafts with their files, a batch at a time: (drafts, files) deleted.

    Each batch is locked and checked again, so a draft saved or sent since it was listed is
    kept. The stored files go once each batch's deletion commits (Attachment's post_delete).
    """
    expired = expired_drafts(now).order_by("pk")
    deleted = files = 0
    while batch := list(expired.values_list("pk", flat=True)[:BATCH]):
        with transaction.atomic():
            locked = expired.filter(pk__in=batch).select_for_update()
            pks = list(locked.values_list("pk", flat=True))
            _total, by_model = Submission.objects.filter(pk__in=pks).delete()
        if not pks:
            break
        deleted += by_model.get("submissions.Submission", 0)
        files += by_model.get("submissions.Attachment", 0)
    return deleted, files

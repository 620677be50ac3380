"""Delete draft litter, with its files: for cron, once a day.

A draft without contributor details (no email yet) goes a day after it was last saved; any
other draft goes `draft_retention_days` (30 by default) after its call's deadline, or after it
was last saved if that is later (a call that takes late submissions keeps a live draft).
"""

from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from submissions.models import Call, Submission

BATCH = 500


def expired_drafts(now: datetime) -> QuerySet[Submission]:
    """Drafts past their keeping time at `now`; re-evaluated under the row lock when deleting."""
    expired = Q(email="", updated_at__lt=now - timedelta(days=1))
    for call in Call.objects.only("pk", "closes_at", "draft_retention_days"):
        cutoff = now - timedelta(days=call.draft_retention_days)
        if call.closes_at < cutoff:
            expired |= Q(call=call, updated_at__lt=cutoff)
    return Submission.objects.filter(expired, state=Submission.State.DRAFT)


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would go; delete nothing."
        )

    def handle(self, *args, dry_run: bool, **options) -> None:
        now = timezone.now()
        expired = expired_drafts(now).order_by("pk")
        if dry_run:
            for pk, updated_at, email in expired.values_list("pk", "updated_at", "email"):
                details = "with details" if email else "without details"
                self.stdout.write(f"draft {pk} ({details}, last saved {updated_at:%Y-%m-%d})")
            self.stdout.write(f"Found {expired.count()} expired drafts.")
            return
        deleted = files = 0
        while batch := list(expired.values_list("pk", flat=True)[:BATCH]):
            with transaction.atomic():
                # Locked and checked again: a draft saved or sent since the listing is kept.
                locked = expired.filter(pk__in=batch).select_for_update()
                pks = list(locked.values_list("pk", flat=True))
                # Attachments cascade; their stored files go after the commit (post_delete).
                _total, by_model = Submission.objects.filter(pk__in=pks).delete()
            if not pks:
                break
            deleted += by_model.get("submissions.Submission", 0)
            files += by_model.get("submissions.Attachment", 0)
        self.stdout.write(f"Deleted {deleted} expired drafts and {files} files.")

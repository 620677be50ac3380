"""Delete draft litter, with its files: for cron, once a day (see journey/retention.py)."""

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from submissions.journey.retention import delete_expired_drafts, expired_drafts


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would go; delete nothing."
        )

    def handle(self, *args, dry_run: bool, **options) -> None:
        now = timezone.now()
        if dry_run:
            expired = expired_drafts(now).order_by("pk")
            for pk, updated_at, email in expired.values_list("pk", "updated_at", "email"):
                details = "with details" if email else "without details"
                self.stdout.write(f"draft {pk} ({details}, last saved {updated_at:%Y-%m-%d})")
            self.stdout.write(f"Found {expired.count()} expired drafts.")
            return
        deleted, files = delete_expired_drafts(now)
        self.stdout.write(f"Deleted {deleted} expired drafts and {files} files.")

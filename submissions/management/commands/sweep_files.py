"""List (and with --delete remove) stored files no record points to, and files of old drafts."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from submissions.common.storage import get_attachment_storage
from submissions.common.wording import human_size
from submissions.models import Attachment, Submission

PREFIX = "attachments"


def stored_names(storage, folder: str = PREFIX) -> list[str]:
    """Every object under `folder`, walking sub-folders too."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:  # nothing uploaded yet, on local disk
        return []
    names = [f"{folder}/{name}" for name in files]
    for sub in folders:
        names += stored_names(storage, f"{folder}/{sub}")
    return names


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--delete", action="store_true", help="Remove what is listed.")
        parser.add_argument(
            "--draft-age-days",
            type=int,
            default=settings.DRAFT_FILES_MAX_AGE_DAYS,
            help="Files of drafts untouched for longer than this are listed "
            "(default: DRAFT_FILES_MAX_AGE_DAYS, %(default)s).",
        )
        parser.add_argument(
            "--grace-minutes",
            type=int,
            default=60,
            help="Leave unrecorded files younger than this: an upload may be mid-transaction.",
        )

    def handle(self, *args, delete: bool, draft_age_days: int, grace_minutes: int, **options):
        storage = get_attachment_storage()
        now = timezone.now()
        recorded = set(Attachment.objects.values_list("file", flat=True))
        orphans = []
        for name in stored_names(storage):
            if name in recorded:
                continue
            if storage.get_modified_time(name) > now - timedelta(minutes=grace_minutes):
                continue
            orphans.append(name)
        for name in orphans:
            self.stdout.write(f"orphan {name} ({human_size(storage.size(name))})")

        cutoff = now - timedelta(days=draft_age_days)
        abandoned = Attachment.objects.filter(
            submission__state=Submission.State.DRAFT, submission__updated_at__lt=cutoff
        ).select_related("submission")
        stale = list(abandoned)
        for attachment in stale:
            self.stdout.write(
                f"abandoned draft {attachment.submission_id} "
                f"(last saved {attachment.submission.updated_at:%Y-%m-%d}): "
                f"{attachment.file.name} ({human_size(attachment.size)})"
            )

        if delete:
            for name in orphans:
                storage.delete(name)
            with transaction.atomic():
                # The files go once the records are gone for good (see the post_delete handler).
                Attachment.objects.filter(pk__in=[a.pk for a in stale]).delete()
        verb = "Deleted" if delete else "Found"
        self.stdout.write(
            f"{verb} {len(orphans)} orphaned files and {len(stale)} files of drafts "
            f"untouched for {draft_age_days} days."
            + ("" if delete or not (orphans or stale) else " Run with --delete to remove them.")
        )

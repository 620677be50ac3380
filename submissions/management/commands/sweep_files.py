"""List (and with --delete remove) stored files no record points to.

Two folders of the private storage: attachments/ (Attachment) and packs/ (SynthesisPackPdf, the
synthesis pack's PDFs: one left by a worker that died between storing a PDF and recording it,
or one whose deletion failed). The files of unfinished drafts go with their drafts, under the
call's retention (`manage.py sweep_drafts`, submissions/journey/retention.py), not here.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from submissions.common.storage import get_attachment_storage
from submissions.common.wording import human_size
from submissions.models import Attachment, SynthesisPackPdf

PREFIX = "attachments"
# Each folder of the storage, and the stored names its records point to.
FOLDERS = {
    PREFIX: lambda: Attachment.objects.values_list("file", flat=True),
    "packs": lambda: SynthesisPackPdf.objects.exclude(file="").values_list("file", flat=True),
}


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
            "--grace-minutes",
            type=int,
            default=60,
            help="Leave unrecorded files younger than this: an upload may be mid-transaction.",
        )

    def handle(self, *args, delete: bool, grace_minutes: int, **options):
        storage = get_attachment_storage()
        now = timezone.now()
        orphans = []
        for folder, records in FOLDERS.items():
            recorded = set(records())
            for name in stored_names(storage, folder):
                if name in recorded:
                    continue
                if storage.get_modified_time(name) > now - timedelta(minutes=grace_minutes):
                    continue
                orphans.append(name)
        for name in orphans:
            self.stdout.write(f"orphan {name} ({human_size(storage.size(name))})")

        if delete:
            for name in orphans:
                storage.delete(name)
        verb = "Deleted" if delete else "Found"
        self.stdout.write(
            f"{verb} {len(orphans)} orphaned files."
            + ("" if delete or not orphans else " Run with --delete to remove them.")
        )

"""Where attachments are kept: a private folder on local disk, or a private S3 bucket.

Settings choose the backend (STORAGES["attachments"]); nothing here knows which one it is.
"""

import sys
from typing import cast

from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty

ATTACHMENTS = "attachments"


class PrivateFileSystemStorage(FileSystemStorage):
    """Local disk with no URL at all: files leave only through the permission-checked view."""

    def url(self, name: str | None) -> str:
        raise NotImplementedError("Attachments have no public URL; use attachment_download")


class AttachmentStorage(LazyObject):
    # Resolved on use rather than at import, so that tests can switch STORAGES.
    _wrapped: object  # the Storage, or `empty` until first used

    def _setup(self) -> None:
        self._wrapped = storages[ATTACHMENTS]


attachment_storage = AttachmentStorage()


def get_attachment_storage() -> Storage:
    """For FileField(storage=...): a callable keeps the backend out of the migrations."""
    # The LazyObject stands in for the Storage it wraps (attribute access and isinstance()).
    return cast(Storage, attachment_storage)


@receiver(setting_changed)
def _reset_attachment_storage(*, setting: str, **kwargs) -> None:
    if setting == "STORAGES":
        attachment_storage._wrapped = empty


def is_s3(storage: Storage) -> bool:
    # Not imported at the top: boto3 takes a third of a second to import, on every command
    # (export_submissions included) whether or not the files are in S3. An S3 storage has
    # imported its module by the time it exists; LazyObject makes the backend on __class__.
    backend = storage.__class__
    s3 = sys.modules.get("storages.backends.s3")
    return s3 is not None and issubclass(backend, s3.S3Storage)

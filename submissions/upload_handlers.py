"""Receiving uploads: every file streams to a temporary file and keeps the name it was sent with.

What is in the files is judged afterwards, by file_checks.check_upload().
"""

import html

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParser
from django.utils.datastructures import ImmutableList


def safe_base_name(sent: str) -> str:
    """What Django itself would keep of a sent name; used only for the temporary file."""
    name = html.unescape(sent).rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    name = "".join(char for char in name if char.isprintable())
    return name if name not in {"", ".", ".."} else "unnamed"


class SentNameMultiPartParser(MultiPartParser):
    """Passes file names on as the browser sent them, so the form can refuse bad ones.

    Django's parser quietly strips folders and control characters; a contributor would then see
    a different name from the one they chose, and a forged name would go unnoticed.
    """

    def sanitize_file_name(self, file_name: str) -> str | None:
        return html.unescape(file_name) or None


class StreamingUploadHandler(TemporaryFileUploadHandler):
    """Every file streams to a temporary file, whatever its size, and keeps its sent name."""

    def new_file(self, field_name, file_name, *args, **kwargs) -> None:
        self.sent_name = file_name
        super().new_file(field_name, safe_base_name(file_name), *args, **kwargs)

    def file_complete(self, file_size: int) -> UploadedFile | None:
        upload = super().file_complete(file_size)
        if upload is not None:
            # An attribute of our own, read back by check_upload(); UploadedFile has no such slot.
            upload.sent_name = self.sent_name  # type: ignore[attr-defined]
        return upload


def parse_keeping_sent_names(request: HttpRequest, meta, post_data):
    """A stand-in for HttpRequest.parse_file_upload that uses SentNameMultiPartParser."""
    request.upload_handlers = ImmutableList(
        request.upload_handlers,
        warning="You cannot alter upload handlers after the upload has been processed.",
    )
    parser = SentNameMultiPartParser(meta, post_data, request.upload_handlers, request.encoding)
    return parser.parse()

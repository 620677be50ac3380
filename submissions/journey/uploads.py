"""Receiving uploads: a request over the size limit is refused unread; every file streams to a
temporary file and keeps the name it was sent with.

What is in the files is judged afterwards, by file_checks.check_upload().
"""

import html
import logging
from functools import partial

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParser
from django.template.loader import render_to_string
from django.utils.datastructures import ImmutableList

from ..common.wording import human_size

logger = logging.getLogger(__name__)


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


class UploadLimitsMiddleware:
    """Refuse an over-large request before reading it; stream files to disk, keeping sent names.

    It must come before CsrfViewMiddleware, which reads request.POST and so parses the body.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.content_type == "multipart/form-data":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.UPLOAD_MAX_REQUEST_SIZE:
                # The body is never read: a 200 MB upload costs nothing but this page.
                logger.warning("Refused a %d byte request to %s", length, request.path)
                html = render_to_string(
                    "413.html", {"limit": human_size(settings.UPLOAD_MAX_REQUEST_SIZE)}
                )
                response = HttpResponse(html, status=413)
                response["Connection"] = "close"
                return response
            request.upload_handlers = [StreamingUploadHandler(request)]
            # Replaced on this request only, on purpose: see parse_keeping_sent_names(). Django
            # has no public way to do this: MultiPartParser cleans every file name (folders and
            # control characters go) before any upload handler sees it, and the one documented
            # hook earlier than that, FileUploadHandler.handle_raw_input(), would have to run a
            # parser of its own, still MultiPartParser. tests/test_files_upload.py fails if a
            # Django upgrade changes parse_file_upload's signature or stops calling it.
            request.parse_file_upload = partial(parse_keeping_sent_names, request)  # type: ignore[method-assign]
        return self.get_response(request)

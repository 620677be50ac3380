"""Request-level guards: a friendly page for a database outage, limits on uploads."""

import logging
from functools import partial

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from .upload_handlers import StreamingUploadHandler, parse_keeping_sent_names
from .wording import human_size

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Connection-level failures only; a constraint or data error is a bug, not an outage.
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.exception("Database unavailable while serving %s", request.path)
        # Rendered without a RequestContext: the database may be what failed.
        html = render_to_string("503.html")
        return HttpResponse(html, status=503, headers={"Retry-After": "60"})


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

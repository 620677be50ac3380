"""Turn a database outage into a friendly page instead of a server error."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

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

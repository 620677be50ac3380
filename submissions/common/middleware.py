"""Middleware for every request: the headers Django does not set itself, and a page for a
database outage. (The upload limits are the journey's: journey/uploads.py.)
"""

import logging

from django.conf import settings
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


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response: turn off what the site never uses."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response

"""Middleware for every request: the headers Django does not set itself, and a page for a
database outage. (The upload limits are the journey's: journey/uploads.py.)
"""

import logging
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from .ratelimits import note_untrusted_proxy, untrusted_proxy

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


class UntrustedProxyMiddleware:
    """Notices requests that came through a proxy the settings do not trust (forwarding headers
    from a private address with TRUSTED_PROXY_COUNT=0), for the log and `check --deploy`.

    At most once an hour per process: the check needs one sighting, not every request.
    """

    NOTE_EVERY = 60 * 60  # seconds

    def __init__(self, get_response):
        self.get_response = get_response
        self.noted_at: float | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        due = self.noted_at is None or time.monotonic() - self.noted_at > self.NOTE_EVERY
        if due and (header := untrusted_proxy(request)):
            self.noted_at = time.monotonic()
            note_untrusted_proxy(request, header)
        return self.get_response(request)

"""No log line carries an emailed link's token: every path that logs a request, read where the
configured handlers write it (not pytest's own capture, which sits beside them).
"""

import io
import logging

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, override_settings
from django.urls import path

from callforevidence import urls as root_urls
from submissions.common.logs import RedactLinkTokens
from submissions.models import ContributorLink

pytestmark = pytest.mark.django_db

TOKEN = "s3cr3t-T0KEN-" + "q" * 30


def forbidden(request, slug, token):
    raise PermissionDenied(f"no entry for {request.path}")


def broken(request, slug, token):
    raise RuntimeError(f"could not read {request.path}")


# The site's URLs and error pages, with two views more: a plain 403 and a 500 at token paths.
urlpatterns = [
    path("<slug:slug>/return/<str:token>/forbidden/", forbidden),
    path("<slug:slug>/status/<str:token>/broken/", broken),
    *root_urls.urlpatterns,
]
handler403, handler404, handler500 = (
    root_urls.handler403,
    root_urls.handler404,
    root_urls.handler500,
)


@pytest.fixture
def logged():
    """Everything the configured handlers write, as text, while the test runs."""
    streams = []
    for handler in configured_handlers():
        if isinstance(handler, logging.StreamHandler):
            stream = io.StringIO()
            streams.append((handler, handler.setStream(stream), stream))
    assert streams, "no handler writes the log"

    def read() -> str:
        return "".join(stream.getvalue() for _, _, stream in streams)

    yield read
    for handler, old, _ in streams:
        handler.setStream(old)


def configured_handlers() -> list[logging.Handler]:
    """Every handler that writes, of every logger, as settings.LOGGING (and Django before it)
    left them; pytest's own capturing handlers are not the service's."""
    loggers = [logging.getLogger(), *map(logging.getLogger, logging.root.manager.loggerDict)]
    handlers = {h for logger in loggers for h in getattr(logger, "handlers", [])}
    return [
        h
        for h in handlers
        if not type(h).__module__.startswith("_pytest") and not isinstance(h, logging.NullHandler)
    ]


def test_every_handler_redacts_link_tokens():
    handlers = configured_handlers()

    assert handlers
    for handler in handlers:
        assert any(isinstance(f, RedactLinkTokens) for f in handler.filters), handler


def test_no_request_log_carries_a_token(logged, seeded_call):
    slug = seeded_call.slug
    client = Client(raise_request_exception=False)
    csrf_client = Client(enforce_csrf_checks=True)

    with override_settings(ROOT_URLCONF=__name__):
        assert client.get(f"/{slug}/return/{TOKEN}/forbidden/").status_code == 403
        assert client.get(f"/{slug}/status/{TOKEN}/broken/").status_code == 500
    assert client.get(f"/{slug}/return/{TOKEN}/").status_code == 404  # a link that does not work
    assert client.put(f"/{slug}/return/{TOKEN}/").status_code == 405
    assert client.delete(f"/{slug}/status/{TOKEN}/").status_code == 405
    assert csrf_client.post(f"/{slug}/return/{TOKEN}/").status_code == 403  # CSRF cookie not set
    assert csrf_client.post(f"/{slug}/status/{TOKEN}/", {"a": 1}).status_code == 403

    text = logged()
    for line in [
        "Forbidden (Permission denied): /what-works-social-media/return/[redacted]/forbidden/",
        "Internal Server Error: /what-works-social-media/status/[redacted]/broken/",
        "RuntimeError: could not read /what-works-social-media/status/[redacted]/broken/",
        "Not Found: /what-works-social-media/return/[redacted]/",
        "Method Not Allowed (PUT): /what-works-social-media/return/[redacted]/",
        "Method Not Allowed (DELETE): /what-works-social-media/status/[redacted]/",
        "Forbidden (CSRF cookie not set.): /what-works-social-media/return/[redacted]/",
        "Forbidden (CSRF cookie not set.): /what-works-social-media/status/[redacted]/",
    ]:
        assert line in text, f"{line!r} not in\n{text}"
    assert TOKEN not in text
    assert ContributorLink.find(TOKEN, ContributorLink.Purpose.RESUME) is None


def test_the_development_server_log_is_redacted(logged):
    logging.getLogger("django.server").info(
        '"%s" %s %s', f"GET /x/return/{TOKEN}/?a=1 HTTP/1.1", "302", "0"
    )

    assert '"GET /x/return/[redacted]/?a=1 HTTP/1.1" 302 0' in logged()
    assert TOKEN not in logged()

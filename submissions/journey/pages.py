"""The site's own pages around the journey: the list of calls, the notices every page links
to (accessibility, cookies, privacy), the error pages, and what every page shows about who runs
the service (the context processor `site`).
"""

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import lazy
from django.views.decorators.http import require_safe

from ..models import Call


def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: the app answers. Touches no database on purpose."""
    return HttpResponse("ok", content_type="text/plain")


def home(request: HttpRequest) -> HttpResponse:
    """submissions/home.html: the calls taking evidence, those before their deadline first,
    then those past it that still take late evidence; with one call, its start page."""
    now = timezone.now()
    calls = list(Call.objects.open_at(now).order_by("closes_at", "title"))
    if len(calls) == 1:
        return redirect("start", calls[0].slug)
    context = {
        "open_calls": [call for call in calls if call.is_on_time(now)],
        "late_calls": [call for call in calls if not call.is_on_time(now)],
    }
    return render(request, "submissions/home.html", context)


@require_safe
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "submissions/accessibility.html")


@require_safe
def cookies(request: HttpRequest) -> HttpResponse:
    context = {"session_days": settings.SESSION_COOKIE_AGE // (60 * 60 * 24)}
    return render(request, "submissions/cookies.html", context)


@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    """The privacy notice of each call open now (usually one)."""
    calls = [c for c in Call.objects.open_at(timezone.now()) if c.privacy_notice]
    return render(request, "submissions/privacy.html", {"calls": calls})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)


def _fallback_contact_email() -> str:
    """The only open call's address; none when several are open, as one call's address would
    pass for the service's own (each call's page and the list of calls give theirs).

    Only pages that belong to no call need it, and only when they render the footer; the error
    pages render it too, so a database fault must not become a second error.
    """
    try:
        calls = list(Call.objects.open_at(timezone.now()).only("contact_email")[:2])
    except DatabaseError:
        return ""
    return calls[0].contact_email if len(calls) == 1 else ""


def site(request: HttpRequest) -> dict:
    return {
        "organisation_name": settings.ORGANISATION_NAME,
        "site_contact_email": settings.CONTACT_EMAIL or lazy(_fallback_contact_email, str)(),
    }

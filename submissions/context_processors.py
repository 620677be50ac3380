"""What every page shows about who runs the service: header, titles and footer."""

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import lazy

from .models import Call


def _fallback_contact_email() -> str:
    # Only pages that belong to no call need it, and only when they render the footer; the
    # error pages render it too, so a database fault must not become a second error.
    try:
        call = Call.objects.open_at(timezone.now()).only("contact_email").first()
    except DatabaseError:
        return ""
    return call.contact_email if call else ""


def site(request: HttpRequest) -> dict:
    return {
        "organisation_name": settings.ORGANISATION_NAME,
        "site_contact_email": settings.CONTACT_EMAIL or lazy(_fallback_contact_email, str)(),
    }

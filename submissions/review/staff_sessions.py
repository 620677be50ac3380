"""Short sessions for staff, long ones for contributors, in the same site and cookie."""

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

STAFF_SEEN_AT = "staff_seen_at"  # when the staff member last made a request (Unix time)
# Refreshing the time at most once a minute spares a session write on every admin request.
REFRESH_EVERY = 60
# Where staff sessions are used: the admin, and the file downloads it links to.
STAFF_PATHS = ("/admin/", "/staff/")


def start_staff_session(session, now: float) -> None:
    session[STAFF_SEEN_AT] = int(now)
    at_close = settings.STAFF_SESSION_AT_BROWSER_CLOSE
    session.set_expiry(0 if at_close else settings.STAFF_SESSION_IDLE_SECONDS)


@receiver(user_logged_in)
def _on_staff_login(sender, request, user, **kwargs) -> None:
    # At sign-in, so that the session row is written once, with the login, not on the next page.
    if user.is_staff and request is not None:
        start_staff_session(request.session, time.time())


class StaffSessionMiddleware:
    """A staff member's session ends after STAFF_SESSION_IDLE_SECONDS without a request and, with
    STAFF_SESSION_AT_BROWSER_CLOSE, when the browser closes. Contributors keep their drafts'
    SESSION_COOKIE_AGE. Place it after AuthenticationMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Staff pages only: contributors' pages (and /healthz) stay as they were, and a
        # database outage there is still the view's to report (DatabaseUnavailableMiddleware).
        if not request.path.startswith(STAFF_PATHS):
            return self.get_response(request)
        now = time.time()
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            seen = request.session.get(STAFF_SEEN_AT)
            if seen is not None and now - seen > settings.STAFF_SESSION_IDLE_SECONDS:
                logout(request)  # a new, empty session: the admin asks to sign in again
        response = self.get_response(request)
        session = request.session
        # Only a session the view used can have signed someone in; others are left unread.
        if session.accessed and session.get(SESSION_KEY) and request.user.is_staff:
            seen = session.get(STAFF_SEEN_AT)
            if seen is None or now - seen > REFRESH_EVERY:
                start_staff_session(session, now)
        return response

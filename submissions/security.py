"""Response headers Django does not set itself, and the staff sign-in lockout page."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

MIN_SECRET_KEY_LENGTH = 50


def require_strong_secret_key() -> None:
    """Refuse to serve with DEBUG off and a SECRET_KEY under 50 characters.

    Django's deploy check only warns (security.W009); a short key signs sessions and CSRF
    tokens guessably. Called by wsgi.py and asgi.py, so one-off commands (a migration in a
    build step) still run with a placeholder key.
    """
    if not settings.DEBUG and len(settings.SECRET_KEY) < MIN_SECRET_KEY_LENGTH:
        raise ImproperlyConfigured(
            f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters when DEBUG is off, "
            "e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response: turn off what the site never uses."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


def lockout_response(request: HttpRequest, original_response, credentials) -> HttpResponse:
    """The sign-in page again, saying the account is locked for this address and until when.

    The right password is refused too until then (django-axes checks before authenticating).
    """
    cool_off = settings.AXES_COOLOFF_TIME
    retry_at = timezone.localtime() + cool_off
    context = dict(getattr(original_response, "context_data", None) or {})
    form = context.get("form")
    if form is not None:
        # "Enter a correct username and password" would be misleading: the lock is the reason.
        context["form"] = type(form)(request, initial={"username": form.data.get("username")})
    context.update(
        locked_out=True,
        retry_at=retry_at,
        failure_limit=settings.AXES_FAILURE_LIMIT,
        lockout_minutes=int(cool_off.total_seconds() // 60),
    )
    response = TemplateResponse(request, "admin/login.html", context, status=429)
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response.render()

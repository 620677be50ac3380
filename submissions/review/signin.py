"""The staff sign-in lockout page (django-axes calls it: settings.AXES_LOCKOUT_CALLABLE)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone


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

"""The draft a browser holds: found through its session, never through an id in a URL.

Every step of the journey (views.py), saving for later (resume.py) and the licence step open a
call and its draft through `open_step()`, so that each makes the same checks in the same order.
"""

from datetime import datetime

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone

from ..models import Call, Submission
from .steps import first_unfinished, may_visit

SESSION_DRAFTS = "drafts"  # {call slug: draft token}; the token never appears in a URL


def published_call(slug: str, calls: QuerySet[Call] | None = None) -> Call:
    """The published call with this slug, once it has opened; else 404."""
    calls = Call.objects.published() if calls is None else calls
    call = get_object_or_404(calls, slug=slug)
    if timezone.now() < call.opens_at:
        raise Http404("This call is not open yet")
    return call


def load_draft(request: HttpRequest, call: Call) -> Submission | None:
    """The session's submission for this call; an unknown or tampered token is forgotten."""
    token = request.session.get(SESSION_DRAFTS, {}).get(call.slug)
    if not token:
        return None
    try:
        return Submission.objects.get(call=call, token=token)
    except Submission.DoesNotExist:
        forget_draft(request, call)
        return None


def remember_draft(request: HttpRequest, call: Call, submission: Submission) -> None:
    drafts = request.session.get(SESSION_DRAFTS, {})
    drafts[call.slug] = submission.token
    request.session[SESSION_DRAFTS] = drafts


def forget_draft(request: HttpRequest, call: Call) -> None:
    drafts = request.session.get(SESSION_DRAFTS, {})
    if drafts.pop(call.slug, None) is not None:
        request.session[SESSION_DRAFTS] = drafts


def posted(request: HttpRequest) -> QueryDict | None:
    """The POST data to bind a form to, even when empty (an empty POST must show errors)."""
    return request.POST if request.method == "POST" else None


def open_call(slug: str) -> tuple[Call, datetime] | HttpResponse:
    """The call and the time, while it takes submissions; else the redirect to its closed page."""
    call = published_call(slug)
    now = timezone.now()
    if not call.accepts_submissions(now):
        return redirect("closed", call.slug)
    return call, now


def open_step(
    request: HttpRequest, slug: str, step: str
) -> tuple[Call, Submission, datetime] | HttpResponse:
    """The call, the session's draft and the time, when the draft may be at `step` now.

    Otherwise where to go instead: the closed page after the deadline (for a call that refuses
    late evidence), the start page without a draft, the confirmation once it is sent, or the
    first unfinished step when `step` comes after it.
    """
    opened = open_call(slug)
    if isinstance(opened, HttpResponse):
        return opened
    call, now = opened
    submission = load_draft(request, call)
    if submission is None:
        return redirect("start", call.slug)
    if submission.is_submitted:
        return redirect("confirmation", call.slug)
    if not may_visit(submission, step):
        return redirect(first_unfinished(submission).url_name, call.slug)
    submission.call = call  # already loaded
    return call, submission, now

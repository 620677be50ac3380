"""The draft a browser holds: found through its session, never through an id in a URL.

One browser holds a draft at a time. The session keeps the draft's token and a secret of its
own; the draft keeps the secret's SHA-256 (`Submission.holder_sha256`). Continuing the draft
from an emailed link in another browser gives that browser a new secret (resume.py), and from
then on this one only reads that the draft continued elsewhere (`HeldElsewhere`); every write
re-checks the secret where it writes (Submission.update_draft and the others).

Every step of the journey (views.py), saving for later (resume.py) and the licence step open a
call and its draft through `open_step()`, so that each makes the same checks in the same order.
"""

from datetime import datetime

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone

from ..models import Call, Submission, holder_digest, new_holder
from .steps import first_unfinished, may_visit

# {call slug: {"token": the draft's token, "holder": this browser's secret}}; neither ever
# appears in a URL. (Sessions from before holders keep {call slug: token}: see _adopt.)
SESSION_DRAFTS = "drafts"


class HeldElsewhere(Exception):
    """The draft this browser held was continued in another browser since, from an emailed
    link: this browser may no longer read or change it."""

    def __init__(self, submission: Submission):
        super().__init__(f"Draft {submission.pk} is held by another browser")
        self.submission = submission


def published_call(slug: str, calls: QuerySet[Call] | None = None) -> Call:
    """The published call with this slug, once it has opened; else 404."""
    calls = Call.objects.published() if calls is None else calls
    call = get_object_or_404(calls, slug=slug)
    if timezone.now() < call.opens_at:
        raise Http404("This call is not open yet")
    return call


def load_draft(request: HttpRequest, call: Call) -> Submission | None:
    """The session's submission for this call, while this browser holds it.

    None without one (an unknown or tampered token is forgotten); HeldElsewhere once another
    browser has continued it.
    """
    entry = request.session.get(SESSION_DRAFTS, {}).get(call.slug)
    if not entry:
        return None
    if isinstance(entry, str):
        return _adopt(request, call, entry)
    submission = Submission.objects.filter(call=call, token=entry.get("token", "")).first()
    if submission is None:
        forget_draft(request, call)
        return None
    if submission.holder_sha256 != holder_digest(entry.get("holder", "")):
        raise HeldElsewhere(submission)
    return submission


def _adopt(request: HttpRequest, call: Call, token: str) -> Submission | None:
    """A session from before holders, with the draft's token alone: the first browser to come
    back with it takes the draft (a conditional UPDATE), any other finds it held elsewhere."""
    secret, digest = new_holder()
    drafts = Submission.objects.filter(call=call, token=token)
    if drafts.filter(holder_sha256="").update(holder_sha256=digest):
        submission = drafts.get()
        remember_draft(request, call, submission, secret)
        return submission
    submission = drafts.first()
    if submission is None:
        forget_draft(request, call)
        return None
    raise HeldElsewhere(submission)


def remember_draft(request: HttpRequest, call: Call, submission: Submission, holder: str) -> None:
    """This browser holds `submission`, with the secret whose hash the draft keeps."""
    drafts = request.session.get(SESSION_DRAFTS, {})
    drafts[call.slug] = {"token": submission.token, "holder": holder}
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
    late evidence), the start page without a draft, the page saying it continued in another
    browser, the confirmation once it is sent, or the first unfinished step when `step` comes
    after it.
    """
    opened = open_call(slug)
    if isinstance(opened, HttpResponse):
        return opened
    call, now = opened
    try:
        submission = load_draft(request, call)
    except HeldElsewhere:
        return redirect("continued_elsewhere", call.slug)
    if submission is None:
        return redirect("start", call.slug)
    if submission.is_submitted:
        return redirect("confirmation", call.slug)
    if not may_visit(submission, step):
        return redirect(first_unfinished(submission).url_name, call.slug)
    submission.call = call  # already loaded
    return call, submission, now

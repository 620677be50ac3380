"""Save and come back later: a draft continued in another browser from an emailed link.

The link holds a single-purpose token (ContributorLink, purpose RESUME): 256 bits, stored only
as a hash, issued by the email worker when it sends, and redacted from logs (common/logs.py).
Asking again invalidates every earlier link of the draft.

One browser holds a draft at a time (drafts.py). Opening a link acts on nothing: it keeps the
link (its hash) in the session, under a new session key, and shows at an address without the
token a page that asks whether to continue here (and, when this browser holds other answers,
which to keep). Only that page's POST moves the draft (ContributorLink.move_draft). The browser
that held it is told it continued elsewhere, and may ask for a link to the address the last
link went to, and no other.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from ..common import ratelimits
from ..common.ratelimits import rate_limited
from ..common.wording import masked_email
from ..models import Call, ContributorLink, Submission, new_holder
from ..models.links import DAYS_AFTER_LAST_SAVE, resume_link_expires_at
from ..outbox import queue as outbox
from .drafts import (
    HeldElsewhere,
    load_draft,
    open_step,
    posted,
    published_call,
    remember_draft,
)
from .forms import ResumeRequestForm
from .steps import first_unfinished

SESSION_SENT_TO = "resume_sent_to"  # {call slug: the address the last link went to}
SESSION_LINKS = "resume_links"  # {call slug: SHA-256 of the link opened, until it is used}
SESSION_ELSEWHERE_SENT = "elsewhere_link_sent"  # {call slug: True}: a lost draft's link asked for
RESUME = ContributorLink.Purpose.RESUME


def _private(response: HttpResponse) -> HttpResponse:
    # The token is in this page's URL: never sent on as a referrer, never cached.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@rate_limited("resume_address", "resume_email")
def resume_request(request: HttpRequest, slug: str) -> HttpResponse:
    """Ask for a link by email; limited per client address and per mailbox."""
    # Any draft that has agreed to the licence may be saved: the checks of the About you step.
    opened = open_step(request, slug, "about")
    if isinstance(opened, HttpResponse):
        return opened
    call, submission, now = opened
    form = ResumeRequestForm(posted(request), initial={"email": submission.email})
    if request.method == "POST" and form.is_valid():
        address = form.cleaned_data["email"]
        outbox.queue_resume_link(submission, address)
        request.session[SESSION_SENT_TO] = {
            **request.session.get(SESSION_SENT_TO, {}),
            call.slug: address,
        }
        return redirect("resume_sent", call.slug)
    context = {
        "call": call,
        "form": form,
        "continue_url_name": first_unfinished(submission).url_name,
        "expires_at": resume_link_expires_at(submission),
        "is_late": not call.is_on_time(now),
    }
    return render(request, "submissions/resume_request.html", context)


@never_cache
@require_safe
def resume_sent(request: HttpRequest, slug: str) -> HttpResponse:
    call = published_call(slug)
    address = request.session.get(SESSION_SENT_TO, {}).get(call.slug)
    try:
        submission = load_draft(request, call)
    except HeldElsewhere:
        return redirect("continued_elsewhere", call.slug)
    if not address or submission is None:
        return redirect("resume_request", call.slug)
    submission.call = call
    context = {
        "call": call,
        "address": address,
        "expires_at": resume_link_expires_at(submission),
        "continue_url_name": first_unfinished(submission).url_name,
    }
    return render(request, "submissions/resume_sent.html", context)


def _new_session_key(request: HttpRequest) -> None:
    # Whoever knew the old key (a cookie planted on a shared computer) gets nothing from here on.
    if request.session.session_key:
        request.session.cycle_key()


def _link_refusal(
    request: HttpRequest, call: Call, link: ContributorLink | None
) -> HttpResponse | None:
    """The page for a link that opens nothing: unknown, replaced, forged or another call's (404),
    already sent (the reference), or expired (410). None for a link that works."""
    if link is None or link.submission.call_id != call.pk:
        page = render(request, "submissions/resume_invalid.html", {"call": call}, status=404)
        return _private(page)
    submission = link.submission
    if submission.is_submitted:
        context: dict[str, object] = {"call": call, "submission": submission}
        return _private(render(request, "submissions/resume_submitted.html", context))
    now = timezone.now()
    if not call.accepts_submissions(now) or now >= resume_link_expires_at(submission):
        context = {"call": call, "days": DAYS_AFTER_LAST_SAVE}
        page = render(request, "submissions/resume_expired.html", context, status=410)
        return _private(page)
    return None


@never_cache
@require_safe
def resume(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """Open an emailed link: remember it in the session, then ask at an address without it.

    A GET acts on nothing (another site can make a browser send one): the draft moves only
    when the person says so on the next page. An unknown, replaced or forged token, or one for
    another call, opens nothing.
    """
    call = published_call(slug)
    link = ContributorLink.find(token, RESUME)
    if refused := _link_refusal(request, call, link):
        return refused
    assert link is not None  # refused otherwise
    _new_session_key(request)
    request.session[SESSION_LINKS] = {
        **request.session.get(SESSION_LINKS, {}),
        call.slug: link.token_sha256,
    }
    return _private(redirect("resume_confirm", call.slug))


def _session_link(request: HttpRequest, call: Call) -> ContributorLink | None:
    token_sha256 = request.session.get(SESSION_LINKS, {}).get(call.slug)
    if not token_sha256:
        return None
    links = ContributorLink.objects.select_related("submission__call")
    return links.filter(purpose=RESUME, token_sha256=token_sha256).first()


def _held_here(request: HttpRequest, call: Call) -> Submission | None:
    """The unfinished draft this browser holds for the call, if any."""
    try:
        draft = load_draft(request, call)
    except HeldElsewhere:
        return None
    return None if draft is None or draft.is_submitted else draft


@never_cache
@require_http_methods(["GET", "POST"])
def resume_confirm(request: HttpRequest, slug: str) -> HttpResponse:
    """submissions/resume_confirm.html: continue the link's draft in this browser?

    It says where the link was emailed and what the draft holds, warns against a link someone
    else sent, and, when this browser holds other answers for the call, offers to keep those
    instead. "Continue in this browser" (POST) moves the draft here, under a new session key.
    """
    call = published_call(slug)
    link = _session_link(request, call)
    if refused := _link_refusal(request, call, link):
        return refused
    assert link is not None  # refused otherwise
    draft = link.submission
    here = _held_here(request, call)
    if here is not None and here.pk == draft.pk:
        return redirect(first_unfinished(here).url_name, call.slug)  # this browser has it
    if request.method == "POST":
        holder, digest = new_holder()
        moved = link.move_draft(digest)
        if moved is None:
            # Replaced, sent or expired a moment ago: the page says which.
            return redirect("resume_confirm", call.slug)
        _new_session_key(request)
        remember_draft(request, call, moved, holder)
        for name in (SESSION_LINKS, SESSION_ELSEWHERE_SENT):  # the link used, a link asked for
            entries = request.session.get(name, {})
            if entries.pop(call.slug, None) is not None:
                request.session[name] = entries
        return redirect(first_unfinished(moved).url_name, call.slug)
    draft.call = call
    context = {
        "call": call,
        "draft": draft,
        "next_step": first_unfinished(draft),
        "sent_to": masked_email(link.sent_to),
        "other": here,
        "other_step": first_unfinished(here) if here else None,
    }
    return render(request, "submissions/resume_confirm.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def continued_elsewhere(request: HttpRequest, slug: str) -> HttpResponse:
    """submissions/continued_elsewhere.html: the draft this browser held was continued in
    another browser; it may ask for a link to the address the last link went to, and only
    there, or start a new submission. Nothing of the draft since then is shown.
    """
    call = published_call(slug)
    try:
        draft = load_draft(request, call)
    except HeldElsewhere as lost:
        draft = lost.submission
    else:
        # Not lost (any more): back to where this browser's draft is, or to the start.
        if draft is None:
            return redirect("start", call.slug)
        return redirect(first_unfinished(draft).url_name, call.slug)
    # The last link's address; for drafts moved before links recorded theirs, About you's.
    address = draft.link_email or draft.email
    if request.method == "POST" and address:
        refused = ratelimits.refuse(request, "resume_address", "resume_email", email=address)
        if refused:
            return refused
        # Whether the draft was sent since, or the call closed, is not this browser's to know:
        # the page says the same either way, and the link (when one goes) says the rest.
        if draft.state == Submission.State.DRAFT and call.accepts_submissions(timezone.now()):
            outbox.queue_resume_link(draft, address)
        request.session[SESSION_ELSEWHERE_SENT] = {
            **request.session.get(SESSION_ELSEWHERE_SENT, {}),
            call.slug: True,
        }
        return redirect("continued_elsewhere", call.slug)
    context = {
        "call": call,
        "address": masked_email(address),
        "sent": request.session.get(SESSION_ELSEWHERE_SENT, {}).get(call.slug, False),
    }
    return render(request, "submissions/continued_elsewhere.html", context)

"""Save and come back later: a draft reopened in any browser from an emailed link.

The link holds a single-purpose token (ContributorLink, purpose RESUME): 256 bits, stored only
as a hash, issued by the email worker when it sends, and redacted from logs
(common/logs.py). Asking again invalidates every earlier link of the draft.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from ..common.ratelimits import rate_limited
from ..models import ContributorLink
from ..models.links import DAYS_AFTER_LAST_SAVE, resume_link_expires_at
from ..outbox import queue as outbox
from .drafts import load_draft, open_step, posted, published_call, remember_draft
from .forms import ResumeRequestForm
from .steps import first_unfinished

SESSION_SENT_TO = "resume_sent_to"  # {call slug: the address the last link went to}
RESTORED = "Your answers have been restored. Carry on where you left off."


def _private(response: HttpResponse) -> HttpResponse:
    # The token is in this page's URL: never sent on as a referrer, never cached.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@rate_limited("resume_address", "resume_email")
def resume_request(request: HttpRequest, slug: str) -> HttpResponse:
    """Ask for a link by email; limited per client address and per email address."""
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


@require_safe
def resume_sent(request: HttpRequest, slug: str) -> HttpResponse:
    call = published_call(slug)
    address = request.session.get(SESSION_SENT_TO, {}).get(call.slug)
    submission = load_draft(request, call)
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


@require_safe
def resume(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """Open an emailed link: the draft joins this browser's session, then a clean URL.

    An unknown, replaced or forged token, or one for another call, opens nothing.
    """
    call = published_call(slug)
    link = ContributorLink.find(token, ContributorLink.Purpose.RESUME)
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
    if request.session.session_key:
        # A new key: whoever knew the old one does not get the restored draft with it.
        request.session.cycle_key()
    remember_draft(request, call, submission)
    # Said on the step it opens (_step.html), so the person knows nothing was lost.
    messages.success(request, RESTORED)
    return _private(redirect(first_unfinished(submission).url_name, call.slug))

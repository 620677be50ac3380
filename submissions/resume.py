"""Save and come back later: a draft reopened in any browser from an emailed link.

The link holds a single-purpose token (ContributorLink, purpose RESUME): 256 bits, stored only
as a hash, issued by the email worker when it sends, and redacted from logs
(submissions/logs.py). Asking again invalidates every earlier link of the draft.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from . import emails
from .emails import DAYS_AFTER_LAST_SAVE, link_expires_at
from .forms import ResumeRequestForm
from .journey import first_unfinished
from .models import ContributorLink
from .ratelimits import rate_limited
from .views import _load_submission, _posted, _published_call, _remember_draft

SESSION_SENT_TO = "resume_sent_to"  # {call slug: the address the last link went to}


def _private(response: HttpResponse) -> HttpResponse:
    # The token is in this page's URL: never sent on as a referrer, never cached.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@rate_limited("resume_address", "resume_email")
def resume_request(request: HttpRequest, slug: str) -> HttpResponse:
    """Ask for a link by email; limited per client address and per email address."""
    call = _published_call(slug)
    now = timezone.now()
    if not call.accepts_submissions(now):
        return redirect("closed", call.slug)
    submission = _load_submission(request, call)
    if submission is None or submission.consent_given_at is None:
        return redirect("start", call.slug)
    submission.call = call  # already loaded: the expiry reads it
    if submission.is_submitted:
        return redirect("confirmation", call.slug)
    form = ResumeRequestForm(_posted(request), initial={"email": submission.email})
    if request.method == "POST" and form.is_valid():
        address = form.cleaned_data["email"]
        emails.queue_resume_link(submission, address)
        request.session[SESSION_SENT_TO] = {
            **request.session.get(SESSION_SENT_TO, {}),
            call.slug: address,
        }
        return redirect("resume_sent", call.slug)
    context = {
        "call": call,
        "form": form,
        "continue_url_name": first_unfinished(submission).url_name,
        "expires_at": link_expires_at(submission),
        "is_late": not call.is_on_time(now),
    }
    return render(request, "submissions/resume_request.html", context)


@require_safe
def resume_sent(request: HttpRequest, slug: str) -> HttpResponse:
    call = _published_call(slug)
    address = request.session.get(SESSION_SENT_TO, {}).get(call.slug)
    submission = _load_submission(request, call)
    if not address or submission is None:
        return redirect("resume_request", call.slug)
    submission.call = call
    context = {
        "call": call,
        "address": address,
        "expires_at": link_expires_at(submission),
        "continue_url_name": first_unfinished(submission).url_name,
    }
    return render(request, "submissions/resume_sent.html", context)


@require_safe
def resume(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """Open an emailed link: the draft joins this browser's session, then a clean URL.

    An unknown, replaced or forged token, or one for another call, opens nothing.
    """
    call = _published_call(slug)
    link = ContributorLink.find(token, ContributorLink.Purpose.RESUME)
    if link is None or link.submission.call_id != call.pk:
        page = render(request, "submissions/resume_invalid.html", {"call": call}, status=404)
        return _private(page)
    submission = link.submission
    if submission.is_submitted:
        context: dict[str, object] = {"call": call, "submission": submission}
        return _private(render(request, "submissions/resume_submitted.html", context))
    now = timezone.now()
    if not call.accepts_submissions(now) or now >= link_expires_at(submission):
        context = {"call": call, "days": DAYS_AFTER_LAST_SAVE}
        page = render(request, "submissions/resume_expired.html", context, status=410)
        return _private(page)
    if request.session.session_key:
        # A new key: whoever knew the old one does not get the restored draft with it.
        request.session.cycle_key()
    _remember_draft(request, call, submission)
    return _private(redirect(first_unfinished(submission).url_name, call.slug))

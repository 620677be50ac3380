"""A contributor's status page, opened from the private link in their receipt.

The link (`/<call>/status/<token>/`) is a single-purpose ContributorLink. Opening it stores the
link's hash in the session and redirects to `/<call>/status/`, so the token does not stay in the
address bar, the browser's history or a Referer header. A replaced link stops working, for the
session that opened it too; so does an erased submission.

Only the token's own address sends `Referrer-Policy: no-referrer`. The status page keeps the
site's `same-origin`: its address holds no secret, and under `no-referrer` a browser sends
`Origin: null` with the page's forms, which the CSRF check must refuse.
"""

from datetime import datetime

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from ..models import CREDIT_FIELDS, Call, ContributorLink, ReleaseEntry, ReviewChange, Submission
from .forms import CreditDetailsForm, WithdrawalForm
from .releases import take_down

SESSION_STATUS = "status_links"  # {call slug: SHA-256 of the status link's token}
STATUS = ContributorLink.Purpose.STATUS

# What a contributor is told of each review status. Shortlisting is a reviewer's working step.
STATUS_WORDS: dict[str, str] = {
    Submission.ReviewStatus.NEW: "Received",
    Submission.ReviewStatus.IN_REVIEW: "In review",
    Submission.ReviewStatus.SHORTLISTED: "In review",
    Submission.ReviewStatus.INCLUDED: "Included in the toolkit",
    Submission.ReviewStatus.NOT_INCLUDED: "Not included",
}


def _no_referrer(response: HttpResponse) -> HttpResponse:
    # For the token's address only: never on a page with a form (see the docstring).
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_safe
def open_link(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """Remember the link in the session, then show the status at an address without it."""
    link = ContributorLink.find(token, STATUS)
    if link is not None and link.submission.call.slug == slug and link.submission.is_submitted:
        if request.session.session_key:
            # A new key: whoever knew the old one (a cookie planted on a shared computer) does
            # not get the page with it.
            request.session.cycle_key()
        links = request.session.get(SESSION_STATUS, {})
        links[slug] = link.token_sha256
        request.session[SESSION_STATUS] = links
    # A forged or replaced token is not remembered, and leaves the address bar the same way.
    return _no_referrer(redirect("status_page", slug))


def _session_submission(request: HttpRequest, slug: str) -> Submission | None:
    token_sha256 = request.session.get(SESSION_STATUS, {}).get(slug)
    if not token_sha256:
        return None
    link = (
        ContributorLink.objects.filter(
            purpose=STATUS,
            token_sha256=token_sha256,
            submission__call__slug=slug,
            submission__state=Submission.State.SUBMITTED,
        )
        .select_related("submission")
        .first()
    )
    return link.submission if link else None


def last_change(submission: Submission) -> datetime | None:
    """When the review status last changed, or the time it was received."""
    changed = (
        submission.review_changes.filter(field=ReviewChange.Field.REVIEW_STATUS)
        .values_list("changed_at", flat=True)
        .first()
    )
    return changed or submission.submitted_at


@never_cache
@require_http_methods(["GET", "POST"])
def status_page(request: HttpRequest, slug: str) -> HttpResponse:
    """submissions/status.html, or status_invalid.html (404) without a working link."""
    submission = _session_submission(request, slug)
    if submission is None:
        call = Call.objects.published().filter(slug=slug).first()
        return render(request, "submissions/status_invalid.html", {"call": call}, status=404)
    call = Call.objects.with_credits_shown().get(pk=submission.call_id)
    submission.call = call
    credit_form = CreditDetailsForm(instance=submission, prefix="credit")
    withdrawal_form = WithdrawalForm(prefix="withdraw")
    can_correct = not call.credits_frozen and submission.withdrawal_requested_at is None
    if request.method == "POST" and request.POST.get("action") == "credit" and can_correct:
        credit_form = CreditDetailsForm(request.POST, instance=Submission(), prefix="credit")
        if credit_form.is_valid():
            details = {f: credit_form.cleaned_data[f] for f in CREDIT_FIELDS}
            if submission.correct_credit(details):
                messages.success(request, "Your credit details have been updated.")
            else:
                messages.error(request, "Your credit details can no longer be changed.")
            return redirect("status_page", slug)
    elif request.method == "POST" and request.POST.get("action") == "withdraw":
        withdrawal_form = WithdrawalForm(request.POST, prefix="withdraw")
        if withdrawal_form.is_valid():
            with transaction.atomic():
                if submission.request_withdrawal():
                    take_down(submission)  # off every public page and file, at once
            return redirect("status_page", slug)
    elif request.method == "POST":
        return redirect("status_page", slug)
    context = {
        "call": call,
        "submission": submission,
        "status": STATUS_WORDS.get(submission.review_status, "Received"),
        "is_included": submission.review_status == Submission.ReviewStatus.INCLUDED,
        "last_change": last_change(submission),
        "credit_line": submission.credit_line(),
        # The latest release that shows it, if any: its page, and how it is credited there.
        "published": ReleaseEntry.objects.filter(contribution__submission=submission)
        .select_related("release", "contribution")
        .order_by("-release__number")
        .first(),
        "can_correct": can_correct,
        "credit_form": credit_form,
        "withdrawal_form": withdrawal_form,
    }
    return render(request, "submissions/status.html", context)

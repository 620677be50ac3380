"""A contributor's status page, opened from the private link in their receipt.

The link (`/<call>/status/<token>/`) is a single-purpose ContributorLink. Opening it stores the
link's hash in the session and redirects to `/<call>/status/`, so the token does not stay in the
address bar, the browser's history or a Referer header. A replaced link stops working, for the
session that opened it too; so does an erased submission, whose link says so.

Only the token's own address sends `Referrer-Policy: no-referrer`. The status page keeps the
site's `same-origin`: its address holds no secret, and under `no-referrer` a browser sends
`Origin: null` with the page's forms, which the CSRF check must refuse.

"Lost your link?" (`/<call>/status/new-link/`) emails a new link to the address of each of that
call's submissions sent from the address typed; the page says the same whether or not there is
one, and the requests are limited per client address and per email address.
"""

from datetime import datetime

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from ..common.ratelimits import mailbox, rate_limited
from ..journey.drafts import posted, published_call
from ..journey.forms import ADD_CO_CONTRIBUTOR, add_another_url, co_rows_asked
from ..models import (
    Call,
    ContributorLink,
    ErasedLink,
    ReleaseEntry,
    ReviewChange,
    Submission,
    hash_link_token,
)
from ..outbox import queue as outbox
from .forms import CreditDetailsForm, StatusLinkRequestForm, WithdrawalForm

SESSION_STATUS = "status_links"  # {call slug: SHA-256 of the status link's token}
SESSION_LINK_ASKED = "status_link_asked"  # {call slug: the address a new link was asked for}
STATUS = ContributorLink.Purpose.STATUS
# One address rarely sends more than a few; a shared office address is bounded all the same.
MOST_LINKS_PER_REQUEST = 20

# What a contributor is told of each review status. Shortlisting is a reviewer's working step.
STATUS_WORDS: dict[str, str] = {
    Submission.ReviewStatus.NEW: "Received",
    Submission.ReviewStatus.IN_REVIEW: "In review",
    Submission.ReviewStatus.SHORTLISTED: "In review",
    Submission.ReviewStatus.INCLUDED: "Included in the toolkit",
    Submission.ReviewStatus.NOT_INCLUDED: "Not included",
}


def status_words(submission: Submission) -> str:
    """What the contributor reads as their submission's status."""
    if submission.withdrawal_requested_at is not None:
        return "Withdrawal requested"
    return STATUS_WORDS.get(submission.review_status, "Received")


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
        remembered = link.token_sha256
    elif len(token) <= 100 and ErasedLink.objects.filter(token_sha256=hash_link_token(token)):
        remembered = hash_link_token(token)  # the page says the submission was erased
    else:
        remembered = None
    if remembered is not None:
        if request.session.session_key:
            # A new key: whoever knew the old one (a cookie planted on a shared computer) does
            # not get the page with it.
            request.session.cycle_key()
        links = request.session.get(SESSION_STATUS, {})
        links[slug] = remembered
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


def _erased_link(request: HttpRequest, slug: str) -> ErasedLink | None:
    token_sha256 = request.session.get(SESSION_STATUS, {}).get(slug)
    return ErasedLink.objects.filter(token_sha256=token_sha256).first() if token_sha256 else None


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
    """submissions/status.html; status_erased.html (410) for an erased submission's link, or
    status_invalid.html (404) without a working link."""
    submission = _session_submission(request, slug)
    if submission is None:
        call = Call.objects.published().filter(slug=slug).first()
        erased = _erased_link(request, slug)
        if erased is not None:
            context = {"call": call, "erased_at": erased.erased_at}
            return render(request, "submissions/status_erased.html", context, status=410)
        return render(request, "submissions/status_invalid.html", {"call": call}, status=404)
    call = Call.objects.with_credits_shown().get(pk=submission.call_id)
    submission.call = call
    co_rows = co_rows_asked(request)
    credit_form = CreditDetailsForm(instance=submission, prefix="credit", co_rows=co_rows)
    withdrawal_form = WithdrawalForm(prefix="withdraw")
    can_correct = not call.credits_frozen and submission.withdrawal_requested_at is None
    if request.method == "POST" and request.POST.get("action") == "credit" and can_correct:
        credit_form = CreditDetailsForm(
            request.POST, instance=Submission(), prefix="credit", co_rows=co_rows
        )
        if credit_form.is_valid():
            if submission.correct_credit(credit_form.credit_details()):
                messages.success(request, "Your credit details have been updated.")
            else:
                messages.error(request, "Your credit details can no longer be changed.")
            if ADD_CO_CONTRIBUTOR in request.POST:
                return redirect(add_another_url(reverse("status_page", args=[slug]), co_rows))
            return redirect("status_page", slug)
    elif request.method == "POST" and request.POST.get("action") == "withdraw":
        withdrawal_form = WithdrawalForm(request.POST, prefix="withdraw")
        if withdrawal_form.is_valid():
            # Off every public page and file at once, in its transaction (releases.py).
            submission.request_withdrawal()
            return redirect("status_page", slug)
    elif request.method == "POST":
        return redirect("status_page", slug)
    context = {
        "call": call,
        "submission": submission,
        "status": status_words(submission),
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


def submissions_sent_from(call: Call, address: str) -> list[Submission]:
    """The call's submissions sent from this mailbox (common/ratelimits.py, mailbox()), at most a
    few. The link goes to the address each was sent from, never to the one typed."""
    key = mailbox(address)
    # Either spelling matches through the index on UPPER(email); Python then keeps only the
    # addresses that are this mailbox.
    found = Submission.objects.filter(call=call, state=Submission.State.SUBMITTED).filter(
        Q(email__iexact=key) | Q(email__iexact=address.strip())
    )
    found = found.select_related("call").order_by("submitted_at", "pk")
    return [s for s in found[:MOST_LINKS_PER_REQUEST] if mailbox(s.email) == key]


@never_cache
@require_http_methods(["GET", "POST"])
@rate_limited("status_address", "status_email")
def status_link_request(request: HttpRequest, slug: str) -> HttpResponse:
    """submissions/status_link_request.html: "Lost your link?", one email address."""
    call = published_call(slug)
    form = StatusLinkRequestForm(posted(request))
    if request.method == "POST" and form.is_valid():
        address = form.cleaned_data["email"]
        with transaction.atomic():
            for submission in submissions_sent_from(call, address):
                outbox.queue_status_link(submission)
        request.session[SESSION_LINK_ASKED] = {
            **request.session.get(SESSION_LINK_ASKED, {}),
            call.slug: address,
        }
        return redirect("status_link_sent", call.slug)
    return render(request, "submissions/status_link_request.html", {"call": call, "form": form})


@never_cache
@require_safe
def status_link_sent(request: HttpRequest, slug: str) -> HttpResponse:
    """The same page whether or not the address sent anything to this call."""
    call = published_call(slug)
    address = request.session.get(SESSION_LINK_ASKED, {}).get(call.slug)
    if not address:
        return redirect("status_link_request", call.slug)
    context = {"call": call, "address": address}
    return render(request, "submissions/status_link_sent.html", context)

"""A contributor's status page, opened from the private link in their receipt.

The link (`/<call>/status/<token>/`) is a single-purpose ContributorLink. Opening it stores the
link's hash in the session and redirects to `/<call>/status/`, so the token does not stay in the
address bar, the browser's history or a Referer header. A replaced link stops working, for the
session that opened it too; so does an erased submission.
"""

from datetime import datetime
from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from .credits import with_credits_shown
from .forms import (
    CleanTextMixin,
    normalise_orcid,
    orcid_field,
    require_organisation_for_credit,
)
from .models import Call, ContributorLink, ReviewChange, Submission

SESSION_STATUS = "status_links"  # {call slug: SHA-256 of the status link's token}
STATUS = ContributorLink.Purpose.STATUS
CONTRIBUTOR = "Contributor (status page)"  # who made the change, in the submission's history
CREDIT_FIELDS = ["name", "organisation", "orcid", "credit_preference"]

# What a contributor is told of each review status. Shortlisting is a reviewer's working step.
STATUS_WORDS: dict[str, str] = {
    Submission.ReviewStatus.NEW: "Received",
    Submission.ReviewStatus.IN_REVIEW: "In review",
    Submission.ReviewStatus.SHORTLISTED: "In review",
    Submission.ReviewStatus.INCLUDED: "Included in the toolkit",
    Submission.ReviewStatus.NOT_INCLUDED: "Not included",
}


def status_link_url(submission: Submission, raw: str = "") -> str:
    """A new absolute status link for the receipt; any earlier status link stops working."""
    raw = ContributorLink.issue(submission, STATUS, raw=raw)
    return settings.SITE_URL.rstrip("/") + reverse("status", args=[submission.call.slug, raw])


def _private(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_safe
def open_link(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """Remember the link in the session, then show the status at an address without it."""
    link = ContributorLink.find(token, STATUS)
    if link is not None and link.submission.call.slug == slug and link.submission.is_submitted:
        links = request.session.get(SESSION_STATUS, {})
        links[slug] = link.token_sha256
        request.session[SESSION_STATUS] = links
    # A forged or replaced token is not remembered, and leaves the address bar the same way.
    return _private(redirect("status_page", slug))


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


class CreditDetailsForm(CleanTextMixin, forms.ModelForm):
    orcid = orcid_field()

    class Meta:
        model = Submission
        fields = CREDIT_FIELDS
        labels = {
            "name": "Full name",
            "organisation": "Organisation",
            "credit_preference": "How should we credit you in the toolkit?",
        }
        widgets = {"credit_preference": forms.RadioSelect}
        error_messages = {
            "name": {"required": "Enter your full name"},
            "credit_preference": {"required": "Select how you would like to be credited"},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = True
        self.fields["organisation"].required = False
        self.fields["credit_preference"].required = True
        cast(
            forms.ChoiceField, self.fields["credit_preference"]
        ).choices = Submission.Credit.choices

    def clean_orcid(self) -> str:
        raw = self.cleaned_data["orcid"]
        return normalise_orcid(raw) if raw.strip() else ""

    def clean(self):
        cleaned = super().clean()
        require_organisation_for_credit(self, cleaned)
        return cleaned


class WithdrawalForm(forms.Form):
    confirm = forms.BooleanField(
        label="I want my submission withdrawn and my details and evidence erased",
        error_messages={"required": "Tick the box to confirm that you want it withdrawn"},
    )


def _label(field: str, value: str) -> str:
    if field == "credit_preference":
        return Submission.Credit(value).label if value else ""
    return value


def correct_credit(submission: Submission, details: dict, at: datetime | None = None) -> bool:
    """Write the contributor's corrected credit details and their history, unless the call's
    credits are frozen or a withdrawal was asked for. Returns whether anything was written.
    """
    at = at or timezone.now()
    with transaction.atomic():
        # The call's row too: a manager freezing the credits waits for this, or this sees it.
        locked = Submission.objects.select_for_update().select_related("call").get(pk=submission.pk)
        if locked.call.credits_frozen or locked.withdrawal_requested_at is not None:
            return False
        before = {f: getattr(locked, f) for f in CREDIT_FIELDS}
        changed = [f for f in CREDIT_FIELDS if before[f] != details[f]]
        for field in CREDIT_FIELDS:
            setattr(locked, field, details[field])
        locked.save(update_fields=[*CREDIT_FIELDS, "updated_at"])
        ReviewChange.objects.bulk_create(
            ReviewChange(
                submission=locked,
                changed_by=None,
                changed_by_name=CONTRIBUTOR,
                changed_at=at,
                field=field,
                old_value=_label(field, before[field]),
                new_value=_label(field, details[field]),
            )
            for field in changed
        )
    return True


def request_withdrawal(submission: Submission, at: datetime | None = None) -> bool:
    """Record the request once; staff then erase the submission. Returns False if already asked."""
    at = at or timezone.now()
    with transaction.atomic():
        asked = Submission.objects.filter(
            pk=submission.pk, withdrawal_requested_at__isnull=True
        ).update(withdrawal_requested_at=at, updated_at=at)
        if asked:
            ReviewChange.objects.create(
                submission=submission,
                changed_by=None,
                changed_by_name=CONTRIBUTOR,
                changed_at=at,
                field=ReviewChange.Field.WITHDRAWAL_REQUESTED,
                old_value="",
                new_value="Requested",
            )
    return bool(asked)


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
        return _private(
            render(request, "submissions/status_invalid.html", {"call": call}, status=404)
        )
    call = with_credits_shown(Call.objects.all()).get(pk=submission.call_id)
    submission.call = call
    credit_form = CreditDetailsForm(instance=submission, prefix="credit")
    withdrawal_form = WithdrawalForm(prefix="withdraw")
    can_correct = not call.credits_frozen and submission.withdrawal_requested_at is None
    if request.method == "POST" and request.POST.get("action") == "credit" and can_correct:
        credit_form = CreditDetailsForm(request.POST, instance=Submission(), prefix="credit")
        if credit_form.is_valid():
            details = {f: credit_form.cleaned_data[f] for f in CREDIT_FIELDS}
            if correct_credit(submission, details):
                messages.success(request, "Your credit details have been updated.")
            else:
                messages.error(request, "Your credit details can no longer be changed.")
            return _private(redirect("status_page", slug))
    elif request.method == "POST" and request.POST.get("action") == "withdraw":
        withdrawal_form = WithdrawalForm(request.POST, prefix="withdraw")
        if withdrawal_form.is_valid():
            request_withdrawal(submission)
            return _private(redirect("status_page", slug))
    elif request.method == "POST":
        return _private(redirect("status_page", slug))
    context = {
        "call": call,
        "submission": submission,
        "status": STATUS_WORDS.get(submission.review_status, "Received"),
        "is_included": submission.review_status == Submission.ReviewStatus.INCLUDED,
        "last_change": last_change(submission),
        "credit_line": submission.credit_line(),
        "can_correct": can_correct,
        "credit_form": credit_form,
        "withdrawal_form": withdrawal_form,
    }
    return _private(render(request, "submissions/status.html", context))

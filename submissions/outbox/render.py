"""What each email says: its subject, its text and HTML bodies, from the templates under
templates/submissions/email/. The worker (queue.py) renders an email just before it sends it.
"""

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from ..common.site import absolute
from ..models import ContributorLink, OutgoingEmail, Release, ReleaseEntry, Submission
from ..models.links import resume_link_expires_at, status_url_for

Kind = OutgoingEmail.Kind
# Emails that carry a new status link, recorded once the email is sent (queue.py).
CARRIES_STATUS_LINK = (Kind.RECEIPT, Kind.STATUS_LINK, Kind.PUBLISHED)
# In the admin's copy of an email, instead of a private link: staff never see one.
HIDDEN_LINK = "(the contributor's private link: only the email holds it)"
# The kinds sent with an HTML part beside the text (the notification and digest are text only).
WITH_HTML = {
    Kind.RECEIPT,
    Kind.PUBLISHED,
    Kind.RESUME_LINK,
    Kind.STATUS_LINK,
    Kind.TOOLKIT_PUBLISHED,
    Kind.THANK_YOU,
    Kind.WITHDRAWAL_REQUESTED,
    Kind.ERASED,
}


class NoLongerNeeded(Exception):
    """What the email was about has gone since it was queued (say, a contribution withdrawn):
    it is not sent, and the worker records why."""


def message_domain() -> str:
    """The sender's domain, for Message-IDs."""
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"


def one_line(text: str, limit: int = 150) -> str:
    """Staff-typed text made safe for a header: one line, whitespace collapsed, bounded."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def build_message(email: OutgoingEmail, preview: bool = False) -> EmailMessage:
    """Render the email as it is sent. Headers hold only the service's words, never a
    contributor's: the subject names the call (staff-typed, made one line) and the reference,
    and addresses go without display names.

    With `preview` (the admin's copy), the same email with every private link hidden and
    nothing issued.
    """
    builders: dict[str, Callable[[OutgoingEmail, bool], tuple[str, str, dict]]] = {
        Kind.RECEIPT: _receipt,
        Kind.NOTIFICATION: _notification,
        Kind.DIGEST: _digest,
        Kind.RESUME_LINK: _resume_link,
        Kind.STATUS_LINK: _status_link,
        Kind.PUBLISHED: _published,
        Kind.TOOLKIT_PUBLISHED: _toolkit_published,
        Kind.THANK_YOU: _thank_you,
        Kind.WITHDRAWAL_REQUESTED: _withdrawal_requested,
        Kind.ERASED: _erased,
    }
    subject, template, context = builders[email.kind](email, preview)
    context = {
        "call": email.call,
        "site_url": absolute(""),
        "organisation_name": settings.ORGANISATION_NAME,
        "subject": one_line(subject, 200),
        **context,
    }
    message_id = email.message_id
    if email.kind == Kind.RESUME_LINK:
        # A new token each attempt: a new message, not a duplicate of the last one.
        local, _, domain = message_id.partition("@")
        message_id = f"{local}.{email.attempts}@{domain}"
    message = EmailMultiAlternatives(
        subject=one_line(subject, 200),
        body=render_to_string(f"submissions/email/{template}.txt", context),
        to=email.recipients,
        reply_to=[email.call.contact_email],
        headers={"Message-ID": f"<{message_id}>"},
    )
    if email.kind in WITH_HTML:
        message.attach_alternative(
            render_to_string(f"submissions/email/{template}.html", context), "text/html"
        )
    return message


def stable_link_token(email: OutgoingEmail) -> str:
    """A 256-bit token that is the same on every attempt at this one email.

    A receipt resent after an uncertain send keeps its Message-ID, so a mail system may drop
    the second copy: the link in the first must still work. An HMAC of the email's id under
    SECRET_KEY gives that without storing the raw token anywhere.
    """
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"contributor-link:{email.pk}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def status_link_of(email: OutgoingEmail) -> str | None:
    """The status token this email carries, if any: the worker records it once the email is
    sent (queue.py), so that the link it replaces works until then."""
    return stable_link_token(email) if email.kind in CARRIES_STATUS_LINK else None


def _status_url(email: OutgoingEmail, submission: Submission, preview: bool) -> str:
    if preview:
        return HIDDEN_LINK
    # Made here, in the worker, from the email's id: never stored, nor in the task's arguments.
    return status_url_for(submission, stable_link_token(email))


def _receipt(email: OutgoingEmail, preview: bool) -> tuple[str, str, dict]:
    submission, call = email.submission, email.call
    assert submission is not None  # receipts are queued for a submission
    context = {
        "submission": submission,
        "answers": submission.answered_questions(call.questions.all()),
        "attachments": list(submission.attachments.all()),
        "status_url": _status_url(email, submission, preview),
    }
    subject = f"Your evidence to {one_line(call.title)}: reference {submission.reference}"
    return subject, "receipt", context


def _status_link(email: OutgoingEmail, preview: bool) -> tuple[str, str, dict]:
    """A new link to the status page, asked for on "Lost your link?" or sent again by staff."""
    submission, call = email.submission, email.call
    assert submission is not None  # status links are queued for a submission
    context = {"submission": submission, "status_url": _status_url(email, submission, preview)}
    subject = f"Your link to follow your evidence to {one_line(call.title)}"
    return f"{subject}: reference {submission.reference}", "status_link", context


def _notification(email: OutgoingEmail, preview: bool) -> tuple[str, str, dict]:
    submission = email.submission
    assert submission is not None  # notifications are queued for a submission
    context = {
        "submission": submission,
        "admin_url": absolute(reverse("admin:submissions_submission_change", args=[submission.pk])),
    }
    late = " (late)" if submission.is_late else ""
    subject = f"New submission {submission.reference}{late} to {one_line(email.call.title)}"
    return subject, "notification", context


def _digest(email: OutgoingEmail, preview: bool) -> tuple[str, str, dict]:
    since = datetime.fromisoformat(email.params["since"]) if email.params.get("since") else None
    until = datetime.fromisoformat(email.params["until"])
    submitted = Submission.objects.filter(
        call=email.call, state=Submission.State.SUBMITTED, submitted_at__lt=until
    )
    if since is not None:
        submitted = submitted.filter(submitted_at__gte=since)
    submissions = list(submitted.order_by("submitted_at").only("reference", "is_late", "pk"))
    context = {
        "since": since,
        "until": until,
        "submissions": submissions,
        "admin_url": absolute(reverse("admin:submissions_submission_changelist")),
    }
    subject = f"{len(submissions)} new submissions to {one_line(email.call.title)}"
    return subject, "digest", context


def _resume_link(email: OutgoingEmail, preview: bool) -> tuple[str, str, dict]:
    submission = email.submission
    assert submission is not None  # resume links are queued for a draft
    if preview:
        resume_url = HIDDEN_LINK
    else:
        token = ContributorLink.issue(
            submission, ContributorLink.Purpose.RESUME, sent_to=email.recipients[0]
        )
        resume_url = absolute(reverse("resume", args=[email.call.slug, token]))
    context = {
        "resume_url": resume_url,
        "expires_at": resume_link_expires_at(submission),
        "save_url": absolute(reverse("resume_request", args=[email.call.slug])),
    }
    subject = f"Continue your evidence to {one_line(email.call.title)}"
    return subject, "resume_link", context


def _published(email: OutgoingEmail, preview: bool) -> tuple[str, str, dict]:
    """The contribution is in a release: its page, its credit line as shown, the status link."""
    submission = email.submission
    assert submission is not None  # queued for a submission (outbox/queue.py)
    release = Release.objects.get(pk=email.params["release"])
    public_id = submission.public.public_id
    # As the page shows it now: the latest release that holds it (a later one may have
    # taken a corrected credit line).
    entry = (
        ReleaseEntry.objects.filter(contribution__submission=submission)
        .order_by("-release__number")
        .first()
    )
    if entry is None:
        raise NoLongerNeeded("It was taken off every release before this was sent.")
    context = {
        "submission": submission,
        "release": release,
        "page_url": absolute(reverse("contribution", args=[email.call.slug, public_id])),
        "credit_line": entry.credit_line,
        "status_url": _status_url(email, submission, preview),
    }
    subject = f"Your evidence to {one_line(email.call.title)} is published"
    return subject, "published", context


def _contributions(email: OutgoingEmail, submissions) -> list[Submission]:
    """The email's contributions (params "submissions") among `submissions`, oldest first."""
    ids = email.params.get("submissions", [])
    return list(submissions.filter(pk__in=ids).order_by("submitted_at", "pk"))


def _outcome_url(call) -> str:
    return absolute(reverse("outcome", args=[call.slug]))


def _toolkit_published(email: OutgoingEmail, preview: bool) -> tuple[str, str, dict]:
    """Each of the email's contributions that the call's latest release holds (read when it
    is sent: one taken down since is left out, a credit corrected in a later release shows as
    corrected), with its credit line as that release shows it and its page."""
    call = email.call
    release = Release.latest_of(call)
    entries = (
        ReleaseEntry.objects.filter(
            release=release,
            contribution__submission_id__in=email.params.get("submissions", []),
            contribution__submission__withdrawal_requested_at__isnull=True,
        )
        .order_by("contribution__submission__submitted_at", "contribution__submission_id")
        .values_list(
            "contribution__submission__reference", "credit_line", "contribution__public_id"
        )
    )
    contributions = [
        (reference, line, absolute(reverse("contribution", args=[call.slug, public_id])))
        for reference, line, public_id in entries
    ]
    if not contributions:
        raise NoLongerNeeded("None of its contributions is in the latest release any more.")
    context = {
        "contributions": contributions,
        "toolkit_url": call.toolkit_url,
        "outcome_url": _outcome_url(call),
    }
    subject = f"The toolkit of {one_line(call.title)} is published, with your evidence in it"
    return subject, "toolkit_published", context


def _thank_you(email: OutgoingEmail, preview: bool) -> tuple[str, str, dict]:
    call = email.call
    sent = Submission.objects.filter(
        call=call, state=Submission.State.SUBMITTED, withdrawal_requested_at__isnull=True
    ).only("reference", "submitted_at")
    contributions = _contributions(email, sent)
    if not contributions:
        raise NoLongerNeeded("Its contributions were withdrawn.")
    context = {
        "references": [s.reference for s in contributions],
        "toolkit_url": call.toolkit_url,
        "outcome_url": _outcome_url(call),
    }
    subject = f"Thank you for your evidence to {one_line(call.title)}: what it led to"
    return subject, "thank_you", context


def _withdrawal_requested(email: OutgoingEmail, preview: bool) -> tuple[str, str, dict]:
    submission = email.submission
    assert submission is not None  # queued for a submission; erasing it erases this email
    context = {
        "submission": submission,
        "admin_url": absolute(reverse("admin:submissions_submission_change", args=[submission.pk])),
    }
    subject = f"Withdrawal requested: {submission.reference} to {one_line(email.call.title)}"
    return subject, "withdrawal_requested", context


def _erased(email: OutgoingEmail, preview: bool) -> tuple[str, str, dict]:
    context = {"reference": email.params.get("reference", "")}
    subject = f"Your evidence to {one_line(email.call.title)} has been erased"
    return subject, "erased", context

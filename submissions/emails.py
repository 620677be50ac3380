"""Every email is a row in a durable queue, delivered by the task worker, never by a request.

`queue()` writes an OutgoingEmail and its task in the caller's transaction: a rollback queues
nothing, a commit always leaves a task. `manage.py db_worker` runs `deliver_email`, which
renders and sends it. What is guaranteed:

- At least once: a failure (refused, timed out, any exception) is tried again with backoff
  (30 s, doubling, at most an hour apart) until `retry_until` (EMAIL_RETRY_HOURS after it was
  queued, 48 by default), then the email is marked failed and staff can retry it in the admin.
  A worker that dies in the middle of a send is covered too: every attempt first takes a lease
  and queues a fallback task for when the lease ends, which finds the email still due.
- Usually once: an attempt claims the email with a conditional UPDATE (so a duplicate task or
  a second worker skips it), and it is marked sent as soon as the server accepts it. Only a
  send whose outcome is unknown (the connection died after the message was handed over) is
  sent again; it keeps its Message-ID, which most mail systems use to drop the duplicate.
  A save-and-return link is the exception: each attempt issues a fresh token (only its hash
  is stored), so it gets a fresh Message-ID and the latest link is the one that works.
"""

import base64
import hashlib
import hmac
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from .models import Call, ContributorLink, OutgoingEmail, Submission, submitted
from .status import status_link_url

logger = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
# Longer than any send can take (connect, greeting and data, each up to EMAIL_TIMEOUT).
LEASE = timedelta(minutes=10)
# For a call that accepts late evidence (and so never closes), a link lasts this long after
# the draft was last saved.
DAYS_AFTER_LAST_SAVE = 30
Kind = OutgoingEmail.Kind


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most an hour."""
    return min(FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 20), LONGEST_RETRY)


def queue(
    kind: str,
    to: list[str],
    call: Call,
    submission: Submission | None = None,
    params: dict | None = None,
) -> OutgoingEmail:
    """Queue one email in the current transaction (atomic either way: the row and its task)."""
    with transaction.atomic(savepoint=False):
        email = OutgoingEmail.objects.create(
            kind=kind,
            to="\n".join(to),
            call=call,
            submission=submission,
            params=params or {},
            message_id=f"{uuid.uuid4().hex}@{_domain()}",
        )
        deliver_email.enqueue(email.pk)
    return email


@receiver(submitted, sender=Submission)
def queue_submission_emails(submission: Submission, **kwargs) -> None:
    """The receipt, and the staff notification when the call wants one per submission.

    Called by Submission.submit() through the `submitted` signal, in the submit's transaction.
    """
    call = submission.call
    queue(Kind.RECEIPT, [submission.email], call, submission)
    if call.notification_list and call.notification_mode == Call.NotificationMode.EACH:
        queue(Kind.NOTIFICATION, call.notification_list, call, submission)


def queue_resume_link(submission: Submission, address: str) -> OutgoingEmail:
    """Invalidate every earlier save-and-return link of this draft and queue a new one.

    The token is issued by the worker when it sends, so no raw token is ever stored.
    """
    with transaction.atomic():
        ContributorLink.objects.filter(
            submission=submission, purpose=ContributorLink.Purpose.RESUME
        ).delete()
        # An older link still waiting to be sent would replace the new one when it goes.
        OutgoingEmail.objects.filter(
            submission=submission, kind=Kind.RESUME_LINK, state=OutgoingEmail.State.PENDING
        ).delete()
        return queue(Kind.RESUME_LINK, [address], submission.call, submission)


def retry(email: OutgoingEmail) -> bool:
    """Staff's "retry": a failed email is due again now, with a fresh retry window."""
    now = timezone.now()
    with transaction.atomic():
        updated = OutgoingEmail.objects.filter(pk=email.pk, state=OutgoingEmail.State.FAILED)
        if not updated.update(
            state=OutgoingEmail.State.PENDING,
            next_try_at=now,
            retry_until=now + timedelta(hours=settings.EMAIL_RETRY_HOURS),
        ):
            return False
        deliver_email.enqueue(email.pk)
    return True


@task()
def deliver_email(email_id: int) -> str:
    """Send one queued email if it is still due; on failure, schedule the next try."""
    now = timezone.now()
    with transaction.atomic():
        due = OutgoingEmail.objects.filter(
            pk=email_id, state=OutgoingEmail.State.PENDING, next_try_at__lte=now
        )
        # The claim: a duplicate task, a second worker or an early fallback finds nothing due.
        if not due.update(next_try_at=now + LEASE, attempts=F("attempts") + 1, last_tried_at=now):
            return "not due"
        # If this worker dies before it records the outcome, the fallback tries again.
        deliver_email.using(run_after=now + LEASE).enqueue(email_id)
    email = OutgoingEmail.objects.select_related("call", "submission").get(pk=email_id)
    try:
        build_message(email).send()
    except Exception as error:
        return _record_failure(email, error)
    OutgoingEmail.objects.filter(pk=email_id).update(
        state=OutgoingEmail.State.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def _record_failure(email: OutgoingEmail, error: Exception) -> str:
    now = timezone.now()
    description = f"{type(error).__name__}: {error}"[:1000]
    logger.warning(
        "Email %s (%s) attempt %s failed: %s", email.pk, email.kind, email.attempts, description
    )
    with transaction.atomic():
        if now >= email.retry_until:
            OutgoingEmail.objects.filter(pk=email.pk).update(
                state=OutgoingEmail.State.FAILED, last_error=description
            )
            logger.error("Email %s (%s) failed; gave up", email.pk, email.kind)
            return "failed"
        next_try = now + retry_delay(email.attempts)
        OutgoingEmail.objects.filter(pk=email.pk).update(
            next_try_at=next_try, last_error=description
        )
        deliver_email.using(run_after=next_try).enqueue(email.pk)
    return "will retry"


# --- Rendering ------------------------------------------------------------------------------


def _domain() -> str:
    """The sender's domain, for Message-IDs."""
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"


def one_line(text: str, limit: int = 150) -> str:
    """Staff-typed text made safe for a header: one line, whitespace collapsed, bounded."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def build_message(email: OutgoingEmail) -> EmailMessage:
    """Render the email as it is sent. Headers hold only the service's words, never a
    contributor's: the subject names the call (staff-typed, made one line) and the reference,
    and addresses go without display names.
    """
    builders: dict[str, Callable[[OutgoingEmail], tuple[str, str, dict]]] = {
        Kind.RECEIPT: _receipt,
        Kind.NOTIFICATION: _notification,
        Kind.DIGEST: _digest,
        Kind.RESUME_LINK: _resume_link,
    }
    subject, template, context = builders[email.kind](email)
    context = {"call": email.call, "site_url": settings.SITE_URL.rstrip("/"), **context}
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
    if email.kind in (Kind.RECEIPT, Kind.RESUME_LINK):
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


def _receipt(email: OutgoingEmail) -> tuple[str, str, dict]:
    submission, call = email.submission, email.call
    assert submission is not None  # receipts are queued for a submission
    context = {
        "submission": submission,
        "answers": submission.answered_questions(call.questions.all()),
        "attachments": list(submission.attachments.all()),
        # Issued here, in the worker: only the token's hash is stored, never the task's arguments.
        "status_url": status_link_url(submission, raw=stable_link_token(email)),
    }
    subject = f"Your evidence to {one_line(call.title)}: reference {submission.reference}"
    return subject, "receipt", context


def _notification(email: OutgoingEmail) -> tuple[str, str, dict]:
    submission = email.submission
    assert submission is not None  # notifications are queued for a submission
    context = {
        "submission": submission,
        "admin_url": absolute(reverse("admin:submissions_submission_change", args=[submission.pk])),
    }
    late = " (late)" if submission.is_late else ""
    subject = f"New submission {submission.reference}{late} to {one_line(email.call.title)}"
    return subject, "notification", context


def _digest(email: OutgoingEmail) -> tuple[str, str, dict]:
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


def link_expires_at(submission: Submission) -> datetime:
    """Until the call closes; for a call accepting late evidence, 30 days after the last save
    (and never before the deadline)."""
    call = submission.call
    if call.late_policy == Call.LatePolicy.ACCEPT_LATE:
        return max(call.closed_from, submission.updated_at + timedelta(days=DAYS_AFTER_LAST_SAVE))
    return call.closed_from


def _resume_link(email: OutgoingEmail) -> tuple[str, str, dict]:
    submission = email.submission
    assert submission is not None  # resume links are queued for a draft
    token = ContributorLink.issue(submission, ContributorLink.Purpose.RESUME)
    context = {
        "resume_url": absolute(reverse("resume", args=[email.call.slug, token])),
        "expires_at": link_expires_at(submission),
        "save_url": absolute(reverse("resume_request", args=[email.call.slug])),
    }
    subject = f"Continue your evidence to {one_line(email.call.title)}"
    return subject, "resume_link", context

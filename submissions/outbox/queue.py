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

import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone
from django_tasks import task

from ..models import (
    Call,
    ContributorLink,
    OutgoingEmail,
    PublicContribution,
    Release,
    Submission,
    erased,
    submitted,
    toolkit_published,
    withdrawal_requested,
)
from .render import NoLongerNeeded, build_message, message_domain

logger = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
# Longer than any send can take (connect, greeting and data, each up to EMAIL_TIMEOUT).
LEASE = timedelta(minutes=10)
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
            message_id=f"{uuid.uuid4().hex}@{message_domain()}",
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


@receiver(withdrawal_requested, sender=Submission)
def queue_withdrawal_notice(submission: Submission, **kwargs) -> None:
    """The staff named on the call hear of a withdrawal request at once, whatever their
    notification mode: the contribution must come off every public page.

    Called by Submission.request_withdrawal() through its signal, in its transaction, the
    first time only.
    """
    call = Call.objects.get(pk=submission.call_id)
    if call.notification_list:
        queue(Kind.WITHDRAWAL_REQUESTED, call.notification_list, call, submission)


@receiver(erased, sender=Submission)
def queue_erasure_notice(submission: Submission, **kwargs) -> None:
    """Tell the contributor their submission is erased. The email must outlive the row, so it
    holds no submission, only the address (blanked once sent) and the reference."""
    if submission.email:
        params = {"reference": submission.reference}
        queue(Kind.ERASED, [submission.email], submission.call, params=params)


def contributors_by_address(submissions) -> dict[str, tuple[str, list[int]]]:
    """{address folded to lower case: (address as typed first, [submission ids])}, in the
    order given: one person may have sent several contributions, and hears once."""
    people: dict[str, tuple[str, list[int]]] = {}
    for pk, address in submissions:
        if address:
            people.setdefault(address.strip().lower(), (address.strip(), []))[1].append(pk)
    return people


@receiver(toolkit_published, sender=Call)
def queue_toolkit_emails(call: Call, **kwargs) -> None:
    """One email per contributor whose evidence is in the toolkit (the link and their credit
    lines) and, when the call says so, a thank-you to every other contributor.

    Called by Call.mark_toolkit_published() through its signal, in its transaction, once.
    """
    sent = Submission.objects.filter(call=call, state=Submission.State.SUBMITTED)
    ordered = sent.order_by("submitted_at", "pk").values_list("pk", "email")
    included = contributors_by_address(
        Submission.objects.included(call).order_by("submitted_at", "pk").values_list("pk", "email")
    )
    emails = [(Kind.TOOLKIT_PUBLISHED, address, pks) for address, pks in included.values()]
    if call.thank_other_contributors:
        others = contributors_by_address(ordered.filter(withdrawal_requested_at__isnull=True))
        emails += [
            (Kind.THANK_YOU, address, pks)
            for key, (address, pks) in others.items()
            if key not in included
        ]
    queue_many(call, emails)


def queue_many(call: Call, emails: Sequence[tuple[str, str, list[int]]]) -> int:
    """Queue (kind, address, submission ids) emails of a call in one insert, each with its
    task; the first submission of each is the one it belongs to (erasing it erases the email).
    """
    domain = message_domain()
    with transaction.atomic(savepoint=False):
        rows = OutgoingEmail.objects.bulk_create(
            OutgoingEmail(
                kind=kind,
                to=address,
                call=call,
                submission_id=pks[0],
                params={"submissions": pks},
                message_id=f"{uuid.uuid4().hex}@{domain}",
            )
            for kind, address, pks in emails
        )
        for email in rows:
            deliver_email.enqueue(email.pk)
    return len(rows)


def queue_resume_link(submission: Submission, address: str) -> OutgoingEmail:
    """Invalidate every earlier save-and-return link of this draft and queue a new one.

    The token is issued by the worker when it sends, so no raw token is ever stored.
    """
    with transaction.atomic():
        # The draft's row lock, as ContributorLink.move_draft takes it: a link being opened
        # either moves the draft before this invalidates it, or finds it gone.
        list(Submission.objects.select_for_update().filter(pk=submission.pk).values_list("pk"))
        ContributorLink.objects.filter(
            submission=submission, purpose=ContributorLink.Purpose.RESUME
        ).delete()
        # An older link still waiting to be sent would replace the new one when it goes.
        OutgoingEmail.objects.filter(
            submission=submission, kind=Kind.RESUME_LINK, state=OutgoingEmail.State.PENDING
        ).delete()
        return queue(Kind.RESUME_LINK, [address], submission.call, submission)


# Contributions announced in one transaction of the announcement task.
ANNOUNCE_BATCH = 500


def queue_announcements(release: Release) -> None:
    """Tell each contributor whose contribution first appears in this release, once.

    Called in the transaction that publishes the release: the task that queues the emails
    commits with it. A release may bring 300,000 contributions, so the emails themselves are
    queued by the worker, ANNOUNCE_BATCH at a time; each contribution's `announced_at`, set in
    the batch that queues its email, makes it once however often the task runs.
    """
    if release.added_count:
        announce_release.enqueue(release.pk)


def unannounced(release_id: int):
    """New in this release, not yet announced, still in it (not taken down), not erased."""
    return PublicContribution.objects.filter(
        first_release_id=release_id,
        announced_at__isnull=True,
        submission__isnull=False,
        entries__release_id=release_id,
    )


@task()
def announce_release(release_id: int) -> str:
    """Queue the "your contribution is published" email of each new contribution of a release."""
    if not unannounced(release_id).exists():
        return "nothing to announce"
    # If this worker dies half way, the fallback finds what is left.
    announce_release.using(run_after=timezone.now() + LEASE).enqueue(release_id)
    queued = 0
    while True:
        with transaction.atomic():
            batch = list(
                unannounced(release_id)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("submission__call")
                .order_by("pk")[:ANNOUNCE_BATCH]
            )
            if not batch:
                return f"queued {queued}"
            for contribution in batch:
                submission = contribution.submission
                assert submission is not None  # unannounced() keeps only those with one
                queue(
                    Kind.PUBLISHED,
                    [submission.email],
                    submission.call,
                    submission,
                    params={"release": release_id},
                )
            PublicContribution.objects.filter(
                pk__in=[c.pk for c in batch], announced_at__isnull=True
            ).update(announced_at=timezone.now())
            queued += len(batch)


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
    except NoLongerNeeded as reason:
        OutgoingEmail.objects.filter(pk=email_id).update(
            state=OutgoingEmail.State.CANCELLED, last_error=str(reason)
        )
        return "cancelled"
    except Exception as error:
        return _record_failure(email, error)
    sent = {"state": OutgoingEmail.State.SENT, "sent_at": timezone.now(), "last_error": ""}
    if email.kind == Kind.ERASED:
        # The submission is gone; its address is kept only until the email telling them is sent.
        sent["to"] = ""
    OutgoingEmail.objects.filter(pk=email_id).update(**sent)
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

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

A status link (in a receipt, or sent again) works from the moment the mail server accepts its
email, and only then does the link it replaces stop: a person whose new link never arrives,
or who did not ask for it, still has the old one (`ContributorLink.record`).
"""

import logging
import uuid
from collections.abc import Iterable, Iterator
from datetime import timedelta
from itertools import groupby
from operator import itemgetter

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Lower, Trim
from django.dispatch import receiver
from django.utils import timezone
from django_tasks import task
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import normalize_json
from django_tasks_db.models import DBTaskResult, get_date_max

from ..common.batches import batched
from ..common.queues import LONG_JOB_PRIORITY, LONG_JOBS
from ..models import (
    Call,
    ContributorLink,
    OutgoingEmail,
    PublicContribution,
    Release,
    ReleaseEntry,
    Submission,
    erased,
    submitted,
    toolkit_published,
    withdrawal_requested,
)
from ..models.outbox import ONCE_PER_SUBMISSION
from .render import NoLongerNeeded, build_message, message_domain, status_link_of

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


# Emails (and their tasks) written per INSERT when a whole call's contributors are told at once.
QUEUE_BATCH = 1000


def enqueue_many(task, arguments: Iterable[tuple]) -> None:
    """Enqueue `task` once for each tuple of arguments: with the database backend, one INSERT
    for them all (django-tasks enqueues one at a time), rows made as its enqueue() makes them;
    with any other backend, one by one."""
    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        for args in arguments:
            task.enqueue(*args)
        return
    backend.validate_task(task)
    DBTaskResult.objects.bulk_create(
        DBTaskResult(
            args_kwargs=normalize_json({"args": list(args), "kwargs": {}}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            # What the model's pre_save does for enqueue(); bulk_create sends no pre_save.
            run_after=task.run_after or get_date_max(),
            backend_name=backend.alias,
        )
        for args in arguments
    )


def audience_rows(call: Call, release: Release, thank_others: bool):
    """The contributions marking the toolkit published may tell of, each with its contributor's
    address (lower case, trimmed) and whether it is in `release`: without `thank_others`, only
    those in it. Once it is marked, only those submitted by then: one that comes in while the
    worker queues the emails is not thanked for (nor is its contributor, if it is their only
    one)."""
    in_release = ReleaseEntry.objects.filter(
        release=release, contribution__submission_id=OuterRef("pk")
    )
    rows = (
        Submission.objects.filter(call=call, state=Submission.State.SUBMITTED)
        .annotate(address=Lower(Trim("email")), released=Exists(in_release))
        .exclude(address="")
    )
    if call.toolkit_published_at is not None:
        rows = rows.filter(submitted_at__lte=call.toolkit_published_at)
    return rows if thank_others else rows.filter(released=True)


def toolkit_audience(
    call: Call,
    release: Release,
    thank_others: bool,
    after: str = "",
    through: str | None = None,
) -> Iterator[tuple[str, str, list[int]]]:
    """Whom marking the toolkit published tells, as (kind, address, submission ids), one
    person (by address, ignoring case) at a time, streamed in the order of their addresses
    (only those after `after` and up to `through`, when given):

    - whoever has a contribution in `release` (the latest) hears of the toolkit, with those
      contributions (oldest first), never one that is only "Included" by a reviewer;
    - with `thank_others`, every other contributor with a contribution submitted and not
      withdrawn gets a thank-you with those.

    The first submission of each is the one the email belongs to (erasing it erases the email).
    Memory stays flat however many contributed: the rows come from a cursor, in order.
    """
    rows = audience_rows(call, release, thank_others).filter(address__gt=after)
    if through is not None:
        rows = rows.filter(address__lte=through)
    ordered = (
        rows.order_by("address", "submitted_at", "pk")
        .values_list("address", "email", "pk", "released", "withdrawal_requested_at")
        .iterator(chunk_size=QUEUE_BATCH)
    )
    for _key, person in groupby(ordered, key=itemgetter(0)):
        contributions = list(person)
        typed = contributions[0][1].strip()
        released = [pk for _, _, pk, is_released, _ in contributions if is_released]
        if released:
            yield Kind.TOOLKIT_PUBLISHED, typed, released
        elif thank_others:
            sent = [pk for _, _, pk, _, withdrawn in contributions if withdrawn is None]
            if sent:
                yield Kind.THANK_YOU, typed, sent


@receiver(toolkit_published, sender=Call)
def queue_toolkit_emails(call: Call, **kwargs) -> None:
    """Hand the toolkit's emails to the long jobs' worker: one task, queued in the transaction
    that marks the toolkit published (so once however often it is pressed), with the release
    that is the latest now (the one the screen showed).

    At 300,000 contributors queueing them takes minutes (docs/benchmarks.md): past a proxy's
    timeout, and a request's thread held all that while. Called by
    Call.mark_toolkit_published() through its signal, once (it refuses before the first
    release).
    """
    release = Release.latest_of(call)
    assert release is not None  # Call.mark_toolkit_published() refuses without one
    queue_toolkit_job.enqueue(call.pk, release.pk)


def next_addresses(call: Call, release: Release, thank_others: bool, after: str) -> list[str]:
    """The next QUEUE_BATCH contributors' addresses after `after`, in order (one query, through
    the index submission_call_address)."""
    return list(
        audience_rows(call, release, thank_others)
        .filter(address__gt=after)
        .order_by("address")
        .values_list("address", flat=True)
        .distinct()[:QUEUE_BATCH]
    )


@task(queue_name=LONG_JOBS, priority=LONG_JOB_PRIORITY)
def queue_toolkit_job(call_id: int, release_id: int) -> str:
    """Queue the toolkit's emails (toolkit_audience()), QUEUE_BATCH people to a transaction,
    in order of address; each batch records the last address it queued and how many, under the
    call's row lock. So it is safe to run again: a run resumes after the last address queued
    (a worker that died half way loses nothing, queues nobody twice), and of two runs at once
    the one that finds the address moved on without it stops."""
    call = Call.objects.get(pk=call_id)
    if call.toolkit_emails_done_at is not None:
        return "already queued"
    release = Release.objects.get(pk=release_id)
    thank_others = call.thank_other_contributors
    # If this worker dies half way, the fallback goes on from the last address queued.
    queue_toolkit_job.using(run_after=timezone.now() + LEASE).enqueue(call_id, release_id)
    if call.toolkit_emails_total is None:
        total = sum(1 for _ in toolkit_audience(call, release, thank_others))
        Call.objects.filter(pk=call_id, toolkit_emails_total__isnull=True).update(
            toolkit_emails_total=total
        )
    after = call.toolkit_emails_through
    queued = 0
    while True:
        with transaction.atomic():
            locked = Call.objects.select_for_update().filter(pk=call_id)
            if locked.values_list("toolkit_emails_through", flat=True).get() != after:
                return f"queued {queued}; another run goes on"
            addresses = next_addresses(call, release, thank_others, after)
            if not addresses:
                locked.update(toolkit_emails_done_at=timezone.now())
                return f"queued {queued}"
            through = addresses[-1]
            emails = toolkit_audience(call, release, thank_others, after=after, through=through)
            count = queue_many(call, emails)
            locked.update(
                toolkit_emails_through=through,
                toolkit_emails_queued=F("toolkit_emails_queued") + count,
            )
            after = through
            queued += count


def queue_many(
    call: Call, emails: Iterable[tuple[str, str, list[int]]], params: dict | None = None
) -> int:
    """Queue (kind, address, submission ids) emails of a call, QUEUE_BATCH at a time: each
    batch's emails in one INSERT and their tasks in another, in the caller's transaction. The
    first submission of each is the one it belongs to (erasing it erases the email). `params`
    go in every one's params too (a release's announcements: the release)."""
    domain = message_domain()
    params = params or {}
    queued = 0
    with transaction.atomic(savepoint=False):
        for batch in batched(emails, QUEUE_BATCH):
            rows = OutgoingEmail.objects.bulk_create(
                OutgoingEmail(
                    kind=kind,
                    to=address,
                    call=call,
                    submission_id=pks[0],
                    params={"submissions": pks, **params},
                    message_id=f"{uuid.uuid4().hex}@{domain}",
                )
                for kind, address, pks in batch
            )
            enqueue_many(deliver_email, [(email.pk,) for email in rows])
            queued += len(rows)
    return queued


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


def queue_status_link(submission: Submission) -> OutgoingEmail:
    """Queue a new status link to the submission's own address ("Lost your link?").

    The link it replaces keeps working until this email is sent (see above). One waiting at a
    time: an earlier one still unsent is dropped, as its link would never be the latest.
    """
    with transaction.atomic(savepoint=False):
        OutgoingEmail.objects.filter(
            submission=submission, kind=Kind.STATUS_LINK, state=OutgoingEmail.State.PENDING
        ).delete()
        return queue(Kind.STATUS_LINK, [submission.email], submission.call, submission)


def send_again(email: OutgoingEmail) -> OutgoingEmail | None:
    """Staff's "Send again": a new email of the same kind to the same addresses.

    One that carries a link carries a new one: a receipt or a status link stops the old status
    link once it is sent; a save-and-return link stops the old one at once (as asking again
    does). None when there is nothing to send it for: its draft was sent, its submission
    erased, or its address cleared (an erasure's notice keeps none once sent).
    """
    submission = email.submission
    if not email.recipients:
        return None
    if email.kind == Kind.RESUME_LINK:
        if submission is None or submission.is_submitted:
            return None
        return queue_resume_link(submission, email.recipients[0])
    if email.kind in ONCE_PER_SUBMISSION and submission is not None:
        return _send_the_same_again(email)
    with_submission = (Kind.RECEIPT, Kind.STATUS_LINK, Kind.PUBLISHED, Kind.NOTIFICATION)
    if email.kind in with_submission and submission is None:
        return None
    return queue(email.kind, email.recipients, email.call, submission, email.params)


def _send_the_same_again(email: OutgoingEmail) -> OutgoingEmail:
    """The kinds sent once per submission (a unique constraint) go again as the same row, with
    a new Message-ID (a mail system would drop a second copy of the old one) and a fresh retry
    window; one still waiting to go is left to go."""
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        again = OutgoingEmail.objects.filter(pk=email.pk).exclude(state=OutgoingEmail.State.PENDING)
        if again.update(
            state=OutgoingEmail.State.PENDING,
            message_id=f"{uuid.uuid4().hex}@{message_domain()}",
            next_try_at=now,
            retry_until=now + timedelta(hours=settings.EMAIL_RETRY_HOURS),
            last_error="",
        ):
            deliver_email.enqueue(email.pk)
    email.refresh_from_db()
    return email


# Contributions announced in one transaction of the announcement task.
ANNOUNCE_BATCH = 500


def queue_announcements(release: Release) -> None:
    """Tell each contributor whose contribution first appears in this release, once.

    Called in the transaction that publishes the release: the task that queues the emails
    commits with it. A release may bring 300,000 contributions, so the emails themselves are
    queued by the long jobs' worker (not the emails', which would hold every other email back
    meanwhile), ANNOUNCE_BATCH at a time; each contribution's `announced_at`, set in the batch
    that queues its email, makes it once however often the task runs.
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


@task(queue_name=LONG_JOBS, priority=LONG_JOB_PRIORITY)
def announce_release(release_id: int) -> str:
    """Queue the "your contribution is published" email of each new contribution of a release:
    ANNOUNCE_BATCH contributions to a transaction, each batch's emails in one INSERT and their
    tasks in another (queue_many). A contribution another run has locked is skipped, and
    marked announced in the batch that queues its email: so two runs at once, or a run after a
    worker died half way, queue each email once."""
    if not unannounced(release_id).exists():
        return "nothing to announce"
    # If this worker dies half way, the fallback finds what is left.
    announce_release.using(run_after=timezone.now() + LEASE).enqueue(release_id)
    call = Release.objects.select_related("call").get(pk=release_id).call
    queued = 0
    while True:
        with transaction.atomic():
            batch = list(
                unannounced(release_id)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
                .values_list("pk", "submission_id", "submission__email")[:ANNOUNCE_BATCH]
            )
            if not batch:
                return f"queued {queued}"
            emails = [(Kind.PUBLISHED, address, [pk]) for _, pk, address in batch]
            queued += queue_many(call, emails, params={"release": release_id})
            PublicContribution.objects.filter(
                pk__in=[pk for pk, _, _ in batch], announced_at__isnull=True
            ).update(announced_at=timezone.now())


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
    with transaction.atomic():
        OutgoingEmail.objects.filter(pk=email_id).update(**sent)
        # Only now does the status link it carries work, and the one before it stop.
        raw = status_link_of(email)
        if raw is not None and email.submission_id is not None:
            ContributorLink.record(
                email.submission_id,
                ContributorLink.Purpose.STATUS,
                raw,
                email.created_at,
                sent_to=email.recipients[0] if email.recipients else "",
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

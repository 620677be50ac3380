"""The email queue against real SMTP servers on loopback: refused, hung, then working."""

import importlib
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import DatabaseError, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from submissions.models import OutgoingEmail, Submission, submitted
from submissions.outbox import queue as outbox

from ..contributor import ABOUT, evidence_data, url, walk_to
from ..factories import make_call, make_call_manager, make_submission
from ..worker import run_worker

pytestmark = pytest.mark.django_db
JANE = ABOUT["email"]
STAFF = "reviewers@example.org"


@pytest.fixture
def notifying_call(seeded_call):
    """The seeded call with a staff address set: each submit queues two emails."""
    seeded_call.notification_emails = STAFF
    seeded_call.save()
    return seeded_call


def submit(client, call) -> Submission:
    walk_to(client, call, "check")
    response = client.post(url(call, "check"))
    assert response.status_code == 302
    return Submission.objects.get(state=Submission.State.SUBMITTED)


def test_a_rollback_queues_nothing(seeded_call):
    draft = make_submission(seeded_call, state=Submission.State.DRAFT)
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.queue(OutgoingEmail.Kind.RECEIPT, [JANE], seeded_call, draft)
        raise RuntimeError("the reason for the email is rolled back")
    assert OutgoingEmail.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_submit_whose_emails_cannot_be_queued_is_not_made(seeded_call):
    # The `submitted` signal is sent inside the submit's transaction: if queueing its emails
    # fails, the submission is not made, so that no submission is ever without its receipt.
    draft = make_submission(seeded_call, state=Submission.State.DRAFT)

    def the_queue_fails(**kwargs) -> None:
        raise DatabaseError("the email queue could not be written")

    submitted.connect(the_queue_fails, sender=Submission, dispatch_uid="the_queue_fails")
    try:
        with pytest.raises(DatabaseError):
            draft.submit()
    finally:
        submitted.disconnect(sender=Submission, dispatch_uid="the_queue_fails")

    draft.refresh_from_db()
    assert (draft.state, draft.reference, draft.submitted_at) == ("draft", None, None)
    assert not OutgoingEmail.objects.exists()
    assert not DBTaskResult.objects.exists()
    # Tried again once the queue works, it is made with its receipt.
    assert draft.submit()
    assert list(OutgoingEmail.objects.values_list("kind", flat=True)) == ["receipt"]


def test_a_submit_leaves_the_receipt_and_the_notification_queued(client, notifying_call):
    submission = submit(client, notifying_call)
    queued = OutgoingEmail.objects.filter(submission=submission, state="pending")
    assert sorted(queued.values_list("kind", "to")) == [
        ("notification", STAFF),
        ("receipt", JANE),
    ]
    tasks = DBTaskResult.objects.all()
    assert sorted(t.args_kwargs["args"][0] for t in tasks) == sorted(e.pk for e in queued)


def test_with_the_mail_server_hung_every_page_answers_in_under_a_second(
    client, notifying_call, settings, mail_servers
):
    seeded_call = notifying_call
    mail_servers.use(settings, "hung")
    settings.EMAIL_TIMEOUT = 5  # were a request to wait on SMTP, it would take 5 s
    pages = [
        ("get", "start", None),
        ("get", "consent", None),
        ("post", "consent", {"consent": "yes"}),
        ("post", "about", ABOUT),
        ("post", "evidence", evidence_data(seeded_call)),
        ("post", "files", {"action": "continue"}),
        ("get", "check", None),
        ("post", "check", {}),
        ("get", "confirmation", None),
    ]
    times = {}
    for method, step, data in pages:
        started = time.perf_counter()
        response = getattr(client, method)(url(seeded_call, step), data or {})
        times[f"{method.upper()} {step}"] = time.perf_counter() - started
        assert response.status_code in (200, 302), step
    print("\nWith SMTP hung, seconds per page:")
    for page, seconds in times.items():
        print(f"  {page:<20} {seconds:.3f}")
    assert max(times.values()) < 1.0, times
    assert Submission.objects.get().is_submitted
    assert OutgoingEmail.objects.filter(state="pending").count() == 2


def test_the_worker_delivers_each_email_once_the_server_is_back(
    client, notifying_call, settings, mail_servers
):
    seeded_call = notifying_call
    submission = submit(client, seeded_call)
    receipt = OutgoingEmail.objects.get(kind="receipt")

    mail_servers.use(settings, "refusing")
    assert run_worker() == 2
    receipt.refresh_from_db()
    assert (receipt.state, receipt.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in receipt.last_error
    assert receipt.next_try_at > timezone.now()

    mail_servers.use(settings, "hung")
    with time_machine.travel(receipt.next_try_at + timedelta(seconds=1)):
        started = time.perf_counter()
        assert run_worker() == 2
        waited = time.perf_counter() - started
    receipt.refresh_from_db()
    assert (receipt.state, receipt.attempts) == ("pending", 2)
    assert "timed out" in receipt.last_error
    assert waited < 4  # two emails, EMAIL_TIMEOUT of 1 s each

    mail_servers.use(settings, "working")
    with time_machine.travel(receipt.next_try_at + timedelta(seconds=1)):
        run_worker()
    receipt.refresh_from_db()
    assert (receipt.state, receipt.attempts) == ("sent", 3)
    # Every fallback and duplicate task that remains finds nothing due and sends nothing.
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        run_worker()
    assert [m["X-Envelope-To"] for m in mail_servers.inbox.messages] == [JANE, STAFF]
    received = mail_servers.inbox.to(JANE)[0]
    assert submission.reference in received["Subject"]
    assert received["Message-ID"] == f"<{receipt.message_id}>"


def test_retries_go_on_for_at_least_a_day_with_growing_gaps(seeded_call, settings, mail_servers):
    mail_servers.use(settings, "refusing")
    draft = make_submission(seeded_call, state=Submission.State.DRAFT)
    email = outbox.queue(OutgoingEmail.Kind.RECEIPT, [JANE], seeded_call, draft)
    start = timezone.now()
    gaps = []
    now = start
    while email.state == "pending":
        with time_machine.travel(now, tick=False):
            run_worker()
        email.refresh_from_db()
        gaps.append(round((email.next_try_at - now).total_seconds()))
        now = email.next_try_at + timedelta(seconds=1)
        assert len(gaps) < 200
    assert email.state == "failed"
    assert email.last_tried_at - start >= timedelta(hours=24)
    assert gaps[:4] == [30, 60, 120, 240]
    assert max(gaps) == 3600


def test_staff_see_a_failed_email_and_retry_it(client, seeded_call, settings, mail_servers):
    submission = make_submission(seeded_call)
    email = outbox.queue(OutgoingEmail.Kind.RECEIPT, [JANE], seeded_call, submission)
    OutgoingEmail.objects.filter(pk=email.pk).update(retry_until=timezone.now())
    mail_servers.use(settings, "refusing")
    run_worker()
    email.refresh_from_db()
    assert email.state == "failed"

    client.force_login(make_call_manager())
    page = client.get("/admin/submissions/outgoingemail/?state__exact=failed")
    assert page.status_code == 200
    assert submission.reference in page.content.decode()
    assert "ConnectionRefusedError" in page.content.decode()
    response = client.post(
        "/admin/submissions/outgoingemail/",
        {"action": "retry_failed", "_selected_action": [email.pk]},
        follow=True,
    )
    assert "1 queued to send again." in response.content.decode()
    mail_servers.use(settings, "working")
    run_worker()
    email.refresh_from_db()
    assert email.state == "sent"
    assert len(mail_servers.inbox.to(JANE)) == 1


def test_a_duplicate_task_sends_nothing_more(seeded_call, settings, mail_servers):
    mail_servers.use(settings, "working")
    submission = make_submission(seeded_call)
    email = outbox.queue(OutgoingEmail.Kind.RECEIPT, [JANE], seeded_call, submission)
    outbox.deliver_email.enqueue(email.pk)
    run_worker()
    assert len(mail_servers.inbox.messages) == 1


def test_the_seeded_call_tells_no_staff_member_until_one_is_set(client, seeded_call):
    # Its public contact is a real person's mailbox: it stays on the call's pages, and is
    # never sent a notification of each (test) submission unless a call manager lists it.
    assert seeded_call.notification_emails == ""
    assert seeded_call.notification_list == []
    submission = submit(client, seeded_call)
    assert list(OutgoingEmail.objects.values_list("kind", "to")) == [("receipt", JANE)]
    start = client.get(url(seeded_call, "start")).content.decode()
    assert f'href="mailto:{seeded_call.contact_email}"' in start
    run_worker()
    assert OutgoingEmail.objects.get(submission=submission).state == "sent"


def test_staff_addresses_from_the_environment_serve_calls_without_their_own(
    client, seeded_call, settings
):
    settings.STAFF_NOTIFICATION_EMAILS = ["triage@example.org"]
    own = make_call(notification_emails="own-team@example.org")
    assert seeded_call.notification_list == ["triage@example.org"]
    assert own.notification_list == ["own-team@example.org"]
    submit(client, seeded_call)
    assert sorted(OutgoingEmail.objects.values_list("kind", "to")) == [
        ("notification", "triage@example.org"),
        ("receipt", JANE),
    ]


def test_the_migration_stops_notifying_the_seeded_calls_contact_and_keeps_set_addresses(
    seeded_call,
):
    from django.apps import apps

    migration = importlib.import_module("submissions.migrations.0018_no_default_notification")
    other = make_call(notification_emails="contact@example.org")  # the same as its contact
    # An existing install: 0013 copied the contact address into the seeded call's.
    Call = seeded_call.__class__
    Call.objects.filter(pk=seeded_call.pk).update(notification_emails=seeded_call.contact_email)
    migration.stop_notifying_the_contact(apps, None)
    seeded_call.refresh_from_db()
    assert seeded_call.notification_emails == ""
    other.refresh_from_db()
    assert other.notification_emails == "contact@example.org"  # not the seeded call

    # A call manager's own choice for the seeded call is kept.
    Call.objects.filter(pk=seeded_call.pk).update(notification_emails="team@example.org")
    migration.stop_notifying_the_contact(apps, None)
    seeded_call.refresh_from_db()
    assert seeded_call.notification_emails == "team@example.org"


def test_a_digest_call_gets_one_daily_digest_instead_of_one_email_each(
    client, settings, mail_servers
):
    from django.core.management import call_command

    call = make_call(notification_emails="team@example.org", notification_mode="daily_digest")
    first = make_submission(call, submitted_at=timezone.now() - timedelta(hours=3))
    late = make_submission(call, submitted_at=timezone.now() - timedelta(hours=2), is_late=True)
    call_command("send_digests", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("send_digests", stdout=open("/dev/null", "w"))  # noqa: SIM115
    digests = OutgoingEmail.objects.filter(kind="digest")
    assert digests.count() == 1
    mail_servers.use(settings, "working")
    run_worker()
    (digest,) = mail_servers.inbox.messages
    assert digest["X-Envelope-To"] == "team@example.org"
    body = digest.get_content()
    assert f"{first.reference}: " in body
    assert f"{late.reference} (late)" in body
    assert "2 new submissions" in digest["Subject"]

    walk_to(client, call, "check")
    client.post(url(call, "check"))
    assert not OutgoingEmail.objects.filter(kind="notification").exists()


def test_a_call_manager_erases_a_submission_with_its_emails(client, seeded_call):
    submission = submit(client, seeded_call)
    client.force_login(make_call_manager())
    erase = f"/admin/submissions/submission/{submission.pk}/delete/"
    assert "Outgoing email" in client.get(erase).content.decode()
    response = client.post(erase, {"post": "yes"})
    assert response.status_code == 302
    assert not Submission.objects.exists()
    # Its receipt and notification went with it; what is left is the email telling the
    # contributor of the erasure, which belongs to no submission (tests/outbox/test_outcome_emails).
    left = OutgoingEmail.objects.values_list("kind", "submission", "params")
    assert list(left) == [("erased", None, {"reference": submission.reference})]


def test_the_outgoing_email_list_makes_the_same_queries_for_5_or_50_emails(client, seeded_call):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(make_call_manager())
    counts = []
    for total in (5, 50):
        while OutgoingEmail.objects.count() < total:
            submission = make_submission(seeded_call)
            outbox.queue(OutgoingEmail.Kind.RECEIPT, [JANE], seeded_call, submission)
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/admin/submissions/outgoingemail/")
        assert page.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 10, counts

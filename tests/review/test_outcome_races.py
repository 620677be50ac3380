"""Each email is queued once however often the button is pressed, even with two presses at once:
in real threads on PostgreSQL, the second press reaches its write while the first still holds
the row, and finds the work done when the first commits.

The first press is held just after its write (an execute wrapper in its own thread) until the
database shows the second one waiting for that row's lock; then the first commits. Without the
guard (the conditional UPDATE, the row lock), the second would queue its emails too.
"""

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from submissions.models import OutgoingEmail, Submission

from ..factories import make_call, make_call_manager, make_submission
from ..publishing.helpers import publish
from ..races import second_waits_for_the_first
from ..worker import run_worker

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="races need concurrent transactions and row locks: SQLite serialises every write",
    ),
]

Kind = OutgoingEmail.Kind
WRITES = ("UPDATE", "DELETE")


def press_twice_at_once(table: str, press) -> list:
    """Run press() in two threads: the second starts once the first has written `table`, and
    the first commits only once the second is waiting for its lock."""
    return second_waits_for_the_first(table, WRITES, press, press)


def test_two_presses_of_mark_the_toolkit_published_queue_each_email_once():
    call = make_call()
    for n in range(3):
        make_submission(call, email=f"in{n}@example.org", review_status="included")
    make_submission(call, email="other@example.org")
    publish(call)
    # Included since release 1: thanked, never credited, by either press.
    make_submission(call, email="later@example.org", review_status="included")
    bob = make_call_manager()
    data = {
        "action": "toolkit",
        "toolkit_url": "https://t.example/",
        "thank_other_contributors": "on",
    }
    url = reverse("admin:submissions_call_outcome", args=[call.pk])

    def press():
        client = Client()
        client.force_login(bob)
        return client.post(url, data).status_code

    assert press_twice_at_once("submissions_call", press) == [302, 302]

    # One task to queue the emails, however many pressed; the worker queues them.
    jobs = DBTaskResult.objects.filter(task_path__endswith="queue_toolkit_job")
    assert jobs.count() == 1
    run_worker()
    told = OutgoingEmail.objects.filter(kind__in=[Kind.THANK_YOU, Kind.TOOLKIT_PUBLISHED])
    assert sorted(told.values_list("kind", "to")) == [
        (Kind.THANK_YOU, "later@example.org"),
        (Kind.THANK_YOU, "other@example.org"),
        *[(Kind.TOOLKIT_PUBLISHED, f"in{n}@example.org") for n in range(3)],
    ]


def test_two_presses_of_delete_tell_the_contributor_once():
    call = make_call()
    submission = make_submission(call, email="ana@example.org")
    bob = make_call_manager()
    url = reverse("admin:submissions_submission_delete", args=[submission.pk])

    def press():
        client = Client()
        client.force_login(bob)
        return client.post(url, {"post": "yes"}).status_code

    assert press_twice_at_once("submissions_submission", press) == [302, 302]

    assert not Submission.objects.exists()
    assert list(OutgoingEmail.objects.values_list("kind", "to")) == [
        (Kind.ERASED, "ana@example.org")
    ]


def test_two_withdrawal_requests_at_once_tell_the_staff_once():
    call = make_call(notification_emails="team@example.org")
    submission = make_submission(call)

    def press():
        return Submission.objects.get(pk=submission.pk).request_withdrawal()

    assert sorted(press_twice_at_once("submissions_submission", press)) == [False, True]

    assert OutgoingEmail.objects.filter(kind=Kind.WITHDRAWAL_REQUESTED).count() == 1

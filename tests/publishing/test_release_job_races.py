"""A big release under concurrency, in real threads on PostgreSQL: two presses at once start
one job; the worker's progress is visible to the release page while its transaction is open.

As in tests/review/test_outcome_races.py: the first press is held just after it writes the job's
row, until the database shows the second one waiting for that row's lock; then it commits.
"""

import pytest
from django.db import connection, connections
from django_tasks_db.models import DBTaskResult

from submissions.models import Release, ReleaseJob
from submissions.publishing import release_job
from submissions.publishing.release_job import publish_release_job, request_release
from tests.factories import make_call, make_call_manager, make_submission
from tests.publishing.helpers import INCLUDED
from tests.review.test_outcome_races import press_twice_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="races need concurrent transactions and row locks: SQLite serialises every write",
    ),
]
State = ReleaseJob.State


@pytest.fixture
def call():
    call = make_call()
    for name in ("Ana", "Bea", "Cai"):
        make_submission(call, name=name, review_status=INCLUDED)
    return call


def test_two_presses_at_once_start_one_job(call):
    manager = make_call_manager()
    # A job that ended (it failed): both presses update its row, the first holds the lock.
    job, _ = request_release(call, number=1)
    ReleaseJob.objects.filter(pk=job.pk).update(state=State.FAILED, problem="x")
    DBTaskResult.objects.all().delete()

    def press():
        return request_release(call, number=1, by=manager, total=3)

    (first, first_started), (second, second_started) = press_twice_at_once(
        ReleaseJob._meta.db_table, press
    )

    assert (first_started, second_started) == (True, False)
    assert second.state == State.WAITING and second.job == first.job
    assert DBTaskResult.objects.filter(task_path__endswith="publish_release_job").count() == 1


def test_the_count_written_is_seen_while_the_release_is_being_published(call, monkeypatch):
    job, _ = request_release(call, number=1)
    seen = []
    record = release_job.Progress.__call__

    def watched(self, done: int) -> None:
        record(self, done)
        outside = connections.create_connection("default")  # as the release page reads it
        try:
            with outside.cursor() as cursor:
                cursor.execute(
                    "SELECT r.state, r.done, (SELECT count(*) FROM submissions_release) "
                    "FROM submissions_releasejob r WHERE r.id = %s",
                    [job.pk],
                )
                seen.append(cursor.fetchone())
        finally:
            outside.close()

    monkeypatch.setattr(release_job.Progress, "__call__", watched)

    assert publish_release_job.call(job.pk, str(job.job)) == "published"

    # Mid-way: publishing, 3 written, and no release visible yet (its transaction is open).
    assert seen == [("publishing", 3, 0)]
    job.refresh_from_db()
    assert job.state == State.DONE and job.release == Release.objects.get(call=call)

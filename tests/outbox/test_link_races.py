"""Two status links recorded at once, by two workers sending two emails: the newer one wins.

`ContributorLink.record` runs once an email has been sent, in the worker's transaction. Each
test makes one worker hold its write uncommitted while the other records, in real threads on
PostgreSQL, in both orders; whichever commits first, the link of the email queued later is the
one that works.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from submissions.models import ContributorLink, hash_link_token
from tests.factories import make_call, make_submission
from tests.races import WAIT, InThread, finish

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="races need concurrent transactions and row locks: SQLite serialises every write",
    ),
]

STATUS = ContributorLink.Purpose.STATUS


class Hold:
    """In the first worker's thread: hold its transaction open once its link is written (the
    other worker then waits on its row), before it touches the link at all (the other worker
    records first), or after its first look, which found no row to update."""

    def __init__(self, when: str, held: threading.Event, release: threading.Event):
        self.when, self.held, self.release, self.done = when, held, release, False

    def pause(self) -> None:
        self.done = True
        self.held.set()
        assert self.release.wait(timeout=WAIT)

    def __call__(self, execute, sql, params, many, context):
        touches_link = "CONTRIBUTORLINK" in sql.upper()
        if not self.done and touches_link and self.when == "before its write":
            self.pause()
        result = execute(sql, params, many, context)
        words = sql.lstrip().upper()
        wrote = words.startswith(("UPDATE", "INSERT")) and context["cursor"].rowcount > 0
        if not self.done and touches_link and wrote and self.when == "after its write":
            self.pause()
        if not self.done and touches_link and self.when == "after its first look":
            self.pause()
        return result


def record_in_thread(submission_id, raw, issued_at, hook) -> InThread:
    def record():
        with connection.execute_wrapper(hook) if hook else _nothing(), transaction.atomic():
            return ContributorLink.record(submission_id, STATUS, raw, issued_at)

    return InThread(record)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("pause", ["after its write", "before its write", "after its first look"])
@pytest.mark.parametrize("first", ["older", "newer"])
@pytest.mark.parametrize("existing", [False, True])
def test_the_link_of_the_email_queued_later_wins_whoever_commits_first(first, existing, pause):
    submission = make_submission(make_call())
    now = timezone.now()
    if existing:  # the receipt's link, recorded a day before
        ContributorLink.record(submission.pk, STATUS, "receipt-token", now - timedelta(days=1))
    times = {"older": now - timedelta(minutes=5), "newer": now}
    second = "newer" if first == "older" else "older"
    held, release = threading.Event(), threading.Event()

    hold = Hold(pause, held, release)
    holder = record_in_thread(submission.pk, f"{first}-token", times[first], hold)
    assert held.wait(timeout=WAIT)
    # The second worker records now, or waits on the first one's uncommitted row.
    other = record_in_thread(submission.pk, f"{second}-token", times[second], None)
    other.join(timeout=0.5)
    release.set()
    results = dict(zip((first, second), finish(holder, other, timeout=WAIT), strict=True))

    link = ContributorLink.objects.get(submission=submission, purpose=STATUS)
    assert link.token_sha256 == hash_link_token("newer-token")
    assert link.created_at == times["newer"]
    # The older one was recorded only if it wrote first (and was then replaced). Its first look
    # writes when there is a row to update.
    wrote_first = pause == "after its write" or (pause == "after its first look" and existing)
    older_first = (first == "older") == wrote_first
    assert results == {"newer": True, "older": older_first}

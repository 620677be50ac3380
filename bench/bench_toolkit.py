"""Marking the toolkit published for a call of many contributors: every email and its task
queued in batches (outbox/queue.py queue_many) against the way before (one INSERT of every email,
then each task its own INSERT), on the same people, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cfe_toolkit_bench \\
        .venv/bin/python bench/bench_toolkit.py --contributors 300000

Use a database of its own: it migrates it and tops up two calls with `seed_demo` (a twentieth
of the contributions "included in toolkit"): the seeded call to --contributors, and a call of
a tenth as many, on which the way before is timed too (at full size it would hold the button's
request for minutes). Each call gets release 1 (what the emails credit). Each press runs in a
transaction that is rolled back; it prints the median milliseconds of --repeat presses, the
ratio to the way before, the queries and INSERTs, the emails, and the peak of Python's memory
(tracemalloc, in a press of its own) to show that it does not grow with the call.
"""

import argparse
import io
import statistics
import sys
import time
import tracemalloc
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from django.core.management import call_command
from django.db import connection, transaction
from inprocess import analyse  # sets Django up, before any model

from submissions.models import Call, OutgoingEmail, Release, Submission
from submissions.outbox import queue as outbox
from submissions.outbox.render import message_domain
from submissions.publishing.releases import publish_release

SMALL = "toolkit-bench-small"
TOOLKIT_EMAILS = 0  # of the last press's emails, how many told of the toolkit (the rest thanked)


def small_call() -> Call:
    """A copy of the seeded call (its questions too), for a tenth of the contributors."""
    found = Call.objects.filter(slug=SMALL).first()
    if found is not None:
        return found
    source = Call.objects.exclude(slug=SMALL).order_by("pk").first()
    assert source is not None
    questions = list(source.questions.all())
    source.pk = None
    source.id = None
    source.slug = SMALL
    source._state.adding = True
    source.save()
    for question in questions:
        question.pk = None
        question.call = source
        question.save()
    return source


def top_up(call: Call, target: int) -> None:
    have = Submission.objects.filter(call=call, state=Submission.State.SUBMITTED).count()
    if have < target:
        started = time.perf_counter()
        call_command(
            "seed_demo",
            submissions=target - have,
            call=call.slug,
            seed=have + 1 + call.pk * 10_000_000,
            stdout=io.StringIO(),
        )
        print(f"seeded {target - have:,} in {call.slug} in {time.perf_counter() - started:.0f} s")
    latest = Release.latest_of(call)
    publishable = Submission.objects.publishable(call).count()
    if latest is None or latest.contribution_count != publishable:
        number = (latest.number if latest else 0) + 1
        started = time.perf_counter()
        release = publish_release(call, number=number)
        assert release is not None
        print(
            f"release {number} of {call.slug}: {release.contribution_count:,} contributions in "
            f"{time.perf_counter() - started:.1f} s"
        )


def queue_as_before(call: Call, emails) -> int:
    """The way before: every email in one INSERT, then each task its own."""
    domain = message_domain()
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
        outbox.deliver_email.enqueue(email.pk)
    return len(rows)


class Counted:
    """Counts the statements (and INSERTs) a press runs, keeping none of their text (Django's
    query log would hold every batch's SQL, and count no more than 9,000)."""

    def __init__(self) -> None:
        self.queries = self.inserts = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        self.inserts += sql.lstrip().upper().startswith("INSERT")
        return execute(sql, params, many, context)


def press(call: Call, before: bool) -> tuple[float, int, int, int]:
    """Mark the toolkit published (everyone else thanked), rolled back: milliseconds, queries,
    INSERTs and emails."""
    original = outbox.queue_many
    if before:
        outbox.queue_many = queue_as_before  # type: ignore[assignment]
    counted = Counted()
    try:
        with transaction.atomic():
            fresh = Call.objects.get(pk=call.pk)
            with connection.execute_wrapper(counted):
                started = time.perf_counter()
                assert fresh.mark_toolkit_published("https://toolkit.example/", True, by="bench")
                elapsed = (time.perf_counter() - started) * 1000
            queued = OutgoingEmail.objects.filter(call=call)
            emails = queued.filter(kind=OutgoingEmail.Kind.THANK_YOU).count()
            toolkit = queued.filter(kind=OutgoingEmail.Kind.TOOLKIT_PUBLISHED).count()
            transaction.set_rollback(True)
            global TOOLKIT_EMAILS
            TOOLKIT_EMAILS = toolkit
    finally:
        outbox.queue_many = original
    return elapsed, counted.queries, counted.inserts, emails + toolkit


def peak_memory(call: Call) -> float:
    """Python's peak memory (MB) during one press (tracemalloc slows it: not timed)."""
    tracemalloc.start()
    try:
        press(call, before=False)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contributors", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    big = Call.objects.exclude(slug=SMALL).order_by("pk").first()
    assert big is not None
    small = small_call()
    top_up(small, args.contributors // 10)
    top_up(big, args.contributors)
    analyse()

    print(f"{'what':52} {'median ms':>10} {'x before':>9} {'ms/1k':>7} {'queries':>8} "
          f"{'INSERTs':>8} {'emails':>8} {'peak MB':>8}")  # fmt: skip
    baseline = None
    rows = [
        (f"before: {small.slug} (each task its own INSERT)", small, True),
        (f"now: {small.slug} (batches of {outbox.QUEUE_BATCH:,})", small, False),
        (f"now: {big.slug}", big, False),
    ]
    for label, call, before in rows:
        runs = [press(call, before) for _ in range(1 if before else args.repeat)]
        median = statistics.median(r[0] for r in runs)
        _, queries, inserts, emails = runs[-1]
        baseline = baseline or median
        peak = "" if before else f"{peak_memory(call):8.1f}"
        print(
            f"{label:52} {median:10.0f} {median / baseline:9.2f} {median / emails * 1000:7.1f} "
            f"{queries:8,} {inserts:8,} {emails:8,} {peak:>8}"
        )
        print(f"{'':52} ({TOOLKIT_EMAILS:,} of the emails to contributors in the release)")


if __name__ == "__main__":
    main()

"""Time what comes after the event: the synthesis pack (HTML and PDF), the outcome page, the
outcome screen, and marking the toolkit published (which queues an email per contributor).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cfe_outcome_bench \\
        .venv/bin/python bench/bench_outcome.py --submissions 2000

Use a database of its own: it migrates it and tops it up to N submitted submissions with
`seed_demo` (a twentieth of them "included in toolkit", most with themes). Pages are requested
in-process through Django's test client, --repeat times after one warm-up; the toolkit's press
is timed --repeat times too, each time in a transaction rolled back.

The PDF is made by the task worker, not in a request: "Download the PDF" is timed as a request
(it queues the task), then `manage.py db_worker --queue-name documents --batch` (the PDF's own
queue) is run as its own process, --repeat times, each after a press: the task's own time
(recorded on the PDF's row), the process's from start to exit (Django's start and WeasyPrint's
import too), and its peak memory.
It prints the median and slowest in milliseconds, the ratio to the call's start page measured in
the same run, the queries, and the bytes (or emails) each makes.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from inprocess import analyse, reviewer, seed_to, time_page  # sets Django up, before any model

from submissions.common.wording import human_size
from submissions.models import (
    Call,
    OutgoingEmail,
    Submission,
    SynthesisNote,
    SynthesisPackPdf,
    Theme,
)
from submissions.publishing.pack import build_pack, options_for

ROOT = Path(__file__).resolve().parent.parent


def timed(work, repeat: int) -> tuple[list[float], int, object]:
    """Milliseconds of each of `repeat` runs of work() after a warm-up; queries; last result."""
    work()
    timings, result = [], None
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = work()
            timings.append((time.perf_counter() - started) * 1000)
    return timings, len(queries), result


def press_toolkit(call: Call) -> int:
    """Mark the toolkit published, thanking everyone else; count the emails; roll it all back."""
    with transaction.atomic():
        fresh = Call.objects.get(pk=call.pk)
        assert fresh.mark_toolkit_published("https://toolkit.example/", True, by="bench")
        queued = OutgoingEmail.objects.filter(call=call).count()
        transaction.set_rollback(True)
    return queued


def run_worker_process() -> tuple[float, int]:
    """`manage.py db_worker --queue-name documents --batch` as its own process: milliseconds
    start to exit, and the peak memory (KB) of the largest worker run so far."""
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "db_worker",
            "--queue-name",
            "documents",
            "--batch",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            "0",
            "--verbosity",
            "0",
        ],
        check=True,
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
    )
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    seed_to(args.submissions)
    analyse()
    busiest = (
        Call.objects.annotate(n=Count("submissions")).order_by("-n").values_list("pk", flat=True)
    )[0]
    call = Call.objects.get(pk=busiest)
    call.publish_outcome()
    Call.objects.filter(pk=call.pk).update(toolkit_published_at=None)
    for theme in Theme.objects.all():
        informing = Submission.objects.included(call).filter(themes=theme)[:20]
        SynthesisNote.record(
            call,
            theme,
            text="What the event learned.\n\n- one\n- two",
            informed_by=list(informing),
            published=True,
            by=None,
            by_name="bench",
        )
    total = Submission.objects.filter(call=call, state=Submission.State.SUBMITTED).count()
    included = Submission.objects.included(call).count()
    pack = build_pack(call, options_for(call))
    print(
        f"call {call.slug}: {total:,} submitted, {included:,} included; the pack holds "
        f"{pack.contributions:,} under {len(pack.sections)} themes; runs: {args.repeat} after a "
        "warm-up"
    )
    visitor, staff = Client(), Client()
    staff.force_login(reviewer())
    print(f"{'what':34} {'median ms':>10} {'max ms':>9} {'x base':>7} {'queries':>8} {'makes':>13}")
    baseline = None

    def report(label: str, timings: list[float], queries: int, makes: str) -> None:
        nonlocal baseline
        median = statistics.median(timings)
        baseline = baseline or median
        print(
            f"{label:34} {median:10.1f} {max(timings):9.1f} {median / baseline:7.1f}"
            f" {queries:8d} {makes:>13}"
        )

    for label, who, url in [
        ("baseline: start page", visitor, reverse("start", args=[call.slug])),
        ("outcome page", visitor, reverse("outcome", args=[call.slug])),
        ("admin: outcome screen", staff, reverse("admin:submissions_call_outcome", args=[call.pk])),
        (
            "admin: pack, print view",
            staff,
            reverse("admin:submissions_call_pack_print", args=[call.pk]),
        ),
    ]:
        timings, queries, _, size = time_page(who, url, args.repeat)
        report(label, timings, queries, f"{size:,} B")
    # The PDF: the press in the request, then the worker.
    pdf_page = reverse("admin:submissions_call_pack_pdf", args=[call.pk])

    def press_download() -> int:
        # As after "Make it again": the last one is ready, and this press starts a new one.
        SynthesisPackPdf.objects.filter(call=call).update(state=SynthesisPackPdf.State.FAILED)
        response = staff.post(pdf_page, {"action": "again"})
        assert response.status_code == 302, response.status_code
        return 1

    timings, queries, _ = timed(press_download, args.repeat)
    report("admin: Download the PDF (press)", timings, queries, "1 task")
    task_ms, process_ms = [], []
    peak_kb = 0
    pdf = None
    for n in range(args.repeat):
        if n:
            press_download()
        wall, peak_kb = run_worker_process()
        pdf = SynthesisPackPdf.objects.get(call=call)
        assert pdf.state == SynthesisPackPdf.State.READY, (pdf.state, pdf.problem)
        assert pdf.seconds is not None
        task_ms.append(pdf.seconds * 1000)
        process_ms.append(wall)
    assert pdf is not None
    made = f"{human_size(pdf.size)}, {pdf.pages} pp"
    report("worker: the PDF task", task_ms, 0, made)
    report("worker: process, start to exit", process_ms, 0, f"{peak_kb // 1024} MB peak")
    print(
        f"  the PDF prints {len(pdf.contributions):,} contributions {pdf.entries:,} times: "
        f"{pdf.seconds_per_entry:.3f} s each; the worker's peak memory {peak_kb // 1024} MB"
    )
    timings, queries, _, size = time_page(staff, pdf_page, args.repeat)
    report("admin: the PDF's page (ready)", timings, queries, f"{size:,} B")
    timings, queries, queued = timed(lambda: press_toolkit(call), args.repeat)
    report("mark the toolkit published", timings, queries, f"{queued:,} emails")


if __name__ == "__main__":
    main()

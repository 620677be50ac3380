"""Time the staff review pages of the admin with many submissions, and print the figures.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cfe_bench \\
        .venv/bin/python bench/bench_admin.py --submissions 100000 [--no-analyse]

Use a database of its own: it migrates it, tops it up to N submitted submissions with
`seed_demo` (timed), gives a fifth of them files, one in 500 to the benchmark's reviewer and
one in 997 a withdrawal request, then requests each page in-process through Django's test
client as a signed-in reviewer (no network, no server). Each page is requested --repeat times
after one warm-up; the median and slowest are printed in milliseconds, with the ratio to a
baseline page measured in the same run (the admin's list of calls, a handful of rows), so
figures from a busy machine still compare. With --no-analyse the pages are timed on whatever
planner statistics the tables have (VACUUM ANALYZE is otherwise run first).
"""

import argparse
import os
import platform
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from django.db.models.functions import Mod
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from inprocess import analyse, reviewer, seed_to, time_page  # sets Django up, before any model

from submissions.models import Attachment, Submission, Theme


def add_files() -> None:
    """Attachment rows (no bytes) for every fifth submission without any, one to three each."""
    without = (
        Submission.objects.filter(state=Submission.State.SUBMITTED, attachments__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    rows = [
        Attachment(
            submission_id=pk,
            file=f"attachments/bench{pk:012d}{i}",
            original_name=f"evidence-{i}.pdf",
            size=250_000 * (i + 1),
            content_type="application/pdf",
            sha256=f"{pk:060d}{i:04d}",
        )
        for pk in without
        if pk % 5 == 0
        for i in range(pk % 3 + 1)
    ]
    Attachment.objects.bulk_create(rows, batch_size=5000)


def add_assignments_and_withdrawals(user) -> None:
    """One submitted submission in 500 assigned to the benchmark's reviewer, one in 997 asked
    to be withdrawn (both once: a second run finds them done)."""
    submitted = Submission.objects.filter(state=Submission.State.SUBMITTED)
    every = submitted.annotate(by_500=Mod("pk", 500), by_997=Mod("pk", 997))
    every.filter(by_500=0, assigned_reviewer=None).update(assigned_reviewer=user)
    every.filter(by_997=0, withdrawal_requested_at=None).update(
        withdrawal_requested_at=timezone.now()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--no-analyse", action="store_true", help="Time the pages on the statistics as they are."
    )
    args = parser.parse_args()
    print(
        f"bench_admin: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"
    )

    seeded = seed_to(args.submissions)
    if seeded is not None:
        print(f"seed_demo up to {args.submissions:,} submissions: {seeded:.1f} s")
    user = reviewer()
    add_files()
    add_assignments_and_withdrawals(user)
    if not args.no_analyse:
        analyse()

    client = Client()
    client.force_login(user)
    changelist = reverse("admin:submissions_submission_changelist")
    sample = Submission.objects.filter(state=Submission.State.SUBMITTED).order_by("?").first()
    theme = Theme.objects.order_by("pk").first()
    new = Submission.objects.filter(state=Submission.State.SUBMITTED, review_status="new")
    new = new.order_by("?").first()
    surname = sample.name.split()[-1]
    pages = [
        ("baseline: calls list", reverse("admin:submissions_call_changelist")),
        ("list", changelist),
        ("list, new only", f"{changelist}?review_status__exact=new"),
        ("list, late, has files", f"{changelist}?is_late__exact=1&has_files=yes"),
        ("list, one theme", f"{changelist}?theme={theme.pk}"),
        ("list, withdrawal requested", f"{changelist}?withdrawal=yes"),
        ("list, assigned to me", f"{changelist}?reviewer=me"),
        ("list, new and assigned to me", f"{changelist}?reviewer=me&review_status__exact=new"),
        ("list, March 2018", f"{changelist}?submitted_at__year=2018&submitted_at__month=3"),
        ("list, page 100", f"{changelist}?p=100"),
        ("search: reference", f"{changelist}?q={sample.reference}"),
        (f"search: surname ({surname})", f"{changelist}?q={surname}"),
        ("search: two words", f"{changelist}?q=podcast+evaluation"),
        ("search: a word in most answers", f"{changelist}?q=engagement"),
        ("change page", reverse("admin:submissions_submission_change", args=[sample.pk])),
        # Its place in the list it came from ("n of N"): the whole list, and the new ones.
        (
            "change page, in the whole list",
            reverse("admin:submissions_submission_change", args=[sample.pk])
            + "?_changelist_filters=",
        ),
        (
            "change page, in the new ones",
            reverse("admin:submissions_submission_change", args=[new.pk])
            + "?_changelist_filters=review_status__exact%3Dnew",
        ),
        ("admin index with overview", reverse("admin:index")),
    ]
    total = Submission.objects.filter(state=Submission.State.SUBMITTED).count()
    print(f"submitted submissions: {total:,}; runs per page: {args.repeat} after a warm-up")
    print(f"{'page':40} {'median ms':>10} {'max ms':>8} {'x base':>7} {'queries':>8} {'rows':>9}")
    baseline = None
    for label, url in pages:
        timings, queries, response, _ = time_page(client, url, args.repeat)
        context = getattr(response, "context_data", None) or {}
        rows = context["cl"].result_count if "cl" in context else -1
        median = statistics.median(timings)
        baseline = baseline or median
        shown = f"{rows:,}" if rows >= 0 else ""
        if "cl" in context and getattr(context["cl"].paginator, "more_than_counted", False):
            shown = f">{rows:,}"
        print(
            f"{label:40} {median:10.1f} {max(timings):8.1f} {median / baseline:7.1f}"
            f" {queries:8d} {shown:>9}"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

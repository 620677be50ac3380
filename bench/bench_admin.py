"""Time the staff review pages of the admin with many submissions, and print the figures.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cfe_bench \\
        .venv/bin/python bench/bench_admin.py --submissions 100000

Use a database of its own: it migrates it, tops it up to N submitted submissions with
`seed_demo` (timed), gives a fifth of them files, then requests each page in-process through
Django's test client as a signed-in reviewer (no network, no server). Each page is requested
--repeat times after one warm-up; the median and slowest are printed in milliseconds, with the
ratio to a baseline page measured in the same run (the admin's list of calls, a handful of
rows), so figures from a busy machine still compare.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# DEBUG off, plain static files storage, a throwaway secret key: the test settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from submissions.models import Attachment, Call, CallReviewer, Submission, Theme  # noqa: E402


def top_up(target: int) -> float | None:
    """Seed up to `target` submitted submissions; the seconds it took, or None if none needed."""
    have = Submission.objects.filter(state=Submission.State.SUBMITTED).count()
    if have >= target:
        return None
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", submissions=target - have, seed=have + 1, stdout=quiet)
    return time.perf_counter() - started


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


def reviewer() -> User:
    user, _ = User.objects.get_or_create(username="bench-reviewer", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="Reviewers"))
    # Calls are kept apart: the reviewer reviews every call that holds the seeded rows.
    for call in Call.objects.all():
        CallReviewer.objects.get_or_create(call=call, reviewer=user)
    return user


def time_page(client: Client, url: str, repeat: int) -> tuple[list[float], int, int]:
    response = client.get(url)  # warm-up: caches, connection, first-time imports
    assert response.status_code == 200, (url, response.status_code)
    timings = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
    context = getattr(response, "context_data", None) or {}
    count = context["cl"].result_count if "cl" in context else -1
    return timings, len(queries), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    print(f"database: {connection.vendor}")
    call_command("migrate", verbosity=0)
    seeded = top_up(args.submissions)
    if seeded is not None:
        print(f"seed_demo up to {args.submissions:,} submissions: {seeded:.1f} s")
    add_files()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE submissions_submission")
            cursor.execute("VACUUM ANALYZE submissions_attachment")
            cursor.execute("VACUUM ANALYZE submissions_submission_themes")

    client = Client()
    client.force_login(reviewer())
    changelist = reverse("admin:submissions_submission_changelist")
    sample = Submission.objects.filter(state=Submission.State.SUBMITTED).order_by("?").first()
    theme = Theme.objects.order_by("pk").first()
    surname = sample.name.split()[-1]
    pages = [
        ("baseline: calls list", reverse("admin:submissions_call_changelist")),
        ("list", changelist),
        ("list, new only", f"{changelist}?review_status__exact=new"),
        ("list, late, has files", f"{changelist}?is_late__exact=1&has_files=yes"),
        ("list, one theme", f"{changelist}?theme={theme.pk}"),
        ("list, page 100", f"{changelist}?p=100"),
        ("search: reference", f"{changelist}?q={sample.reference}"),
        (f"search: surname ({surname})", f"{changelist}?q={surname}"),
        ("search: two words", f"{changelist}?q=podcast+evaluation"),
        ("search: a word in most answers", f"{changelist}?q=engagement"),
        ("change page", reverse("admin:submissions_submission_change", args=[sample.pk])),
        ("admin index with overview", reverse("admin:index")),
    ]
    total = Submission.objects.filter(state=Submission.State.SUBMITTED).count()
    print(f"submitted submissions: {total:,}; runs per page: {args.repeat} after a warm-up")
    print(f"{'page':40} {'median ms':>10} {'max ms':>8} {'x base':>7} {'queries':>8} {'rows':>8}")
    baseline = None
    for label, url in pages:
        timings, queries, rows = time_page(client, url, args.repeat)
        median = statistics.median(timings)
        baseline = baseline or median
        shown = f"{rows:,}" if rows >= 0 else ""
        print(
            f"{label:40} {median:10.1f} {max(timings):8.1f} {median / baseline:7.1f}"
            f" {queries:8d} {shown:>8}"
        )


if __name__ == "__main__":
    main()

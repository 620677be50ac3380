"""Publishing a release at scale against a COPY of the same rows, its peak memory, and the public
pages (and the staff release page) that read it, with and without fresh planner statistics.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cfe_release_bench \\
        .venv/bin/python bench/bench_release.py --submissions 1000000 --included 0.3

Use a database of its own (PostgreSQL). It migrates it and tops the seeded call up to
--submissions with `seed_demo --included SHARE` (when it has fewer). Then, in one run:

1. the time of a plain `COPY ... TO STDOUT` of the rows a release reads (the baseline);
2. unless --keep, every release of the call is dropped first, so that the release timed is a
   first one (every contribution given its public id); then a release is published by a child
   process (`--publish-child`), --rounds times, timed, with its peak resident memory (the
   child's ru_maxrss, and that of the second process it makes the files in), each after the same
   COPY again;
3. --changes contributions changed (for the release page's preview to find), the planner's
   statistics of the submissions' tables forgotten, as straight after a bulk load with
   autovacuum off, before any ANALYZE (publishing analyses the tables it fills), then each page
   --repeat times after a warm-up, in-process through Django's test client: median and 95th
   percentile in ms, queries, bytes (a data file read to its end);
4. ANALYZE, and the pages again.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from inprocess import reviewer, time_page  # sets Django up, before any model

from submissions.models import Call, PublicChange, ReleaseEntry, Submission
from submissions.publishing.releases import latest_release, publish_release

CALL = "what-works-social-media"
# What a bulk load of submissions leaves without statistics (publishing analyses the tables it
# fills: releases.analyse_release_tables).
LOADED = [
    "submissions_submission",
    "submissions_submission_themes",
    "submissions_redaction",
    "submissions_publicchange",
]
TABLES = [
    *LOADED,
    "submissions_publiccontribution",
    "submissions_release",
    "submissions_releaseentry",
    "submissions_releasesegment",
]


def seed(submissions: int, included: float) -> Call:
    call_command("migrate", verbosity=0)
    call = Call.objects.get(slug=CALL)
    have = Submission.objects.filter(call=call, state=Submission.State.SUBMITTED).count()
    if have < submissions:
        with open(os.devnull, "w") as quiet:
            call_command(
                "seed_demo",
                submissions=submissions - have,
                seed=have + 1,
                included=included,
                no_analyse=True,
                stdout=quiet,
            )
    return call


def copy_seconds(call: Call) -> float:
    """A plain COPY of the rows a release reads (credit columns, answers, links) to nowhere."""
    sql = (
        "COPY (SELECT s.id, s.credit_preference, s.name, s.organisation, s.co_contributors,"
        " s.answers, s.links FROM submissions_submission s"
        f" WHERE s.call_id = {call.pk} AND s.state = 'submitted'"
        " AND s.review_status = 'included' AND s.withdrawal_requested_at IS NULL"
        " AND NOT s.withheld_from_open_data ORDER BY s.id) TO STDOUT"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for _block in copy:
            pass
    return time.perf_counter() - started


def drop_releases(call: Call) -> None:
    """Every release of the call gone, as if none had been published (files left to sweep)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE submissions_releaseentry, submissions_releasesegment,"
            " submissions_publiccontribution, submissions_release CASCADE"
        )


def publish_in_child() -> tuple[float, dict]:
    """Publish the next release in a child process: its seconds from start to exit, and what
    it says it made (its own time, and its peak resident memory: ru_maxrss)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--publish-child"],
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, json.loads(done.stdout.strip().splitlines()[-1])


def publish_child() -> None:
    call = Call.objects.get(slug=CALL)
    latest = latest_release(call)
    started = time.perf_counter()
    release = publish_release(call, number=(latest.number if latest else 0) + 1)
    assert release is not None
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    # The second process that makes the files (releases.SegmentEncoder), once it has ended.
    peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    print(
        json.dumps(
            {
                "number": release.number,
                "contributions": release.contribution_count,
                "added": release.added_count,
                "csv_mb": round(release.csv_size / 1e6, 1),
                "json_mb": round(release.json_size / 1e6, 1),
                "seconds": round(seconds, 2),
                "peak_mb": peak,
                "peak_child_mb": peak_child,
            }
        )
    )


def change_some(call: Call, count: int) -> int:
    """Change the organisation of `count` contributions of the latest release."""
    ids = list(
        Submission.objects.publishable(call).order_by("?").values_list("pk", flat=True)[:count]
    )
    return Submission.objects.filter(pk__in=ids).update(organisation="Somewhere Else")


def forget_statistics() -> None:
    """As straight after a bulk load with autovacuum off: the planner knows nothing of them."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM pg_statistic WHERE starelid = ANY(%s::regclass[])", [LOADED])


def analyse() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(TABLES)}")


def pages(call: Call) -> list[tuple[str, Client, str]]:
    release = latest_release(call)
    assert release is not None
    last = ReleaseEntry.objects.filter(release=release).order_by("-position").first()
    assert last is not None
    public_id = last.contribution.public_id
    last_page = max(1, -(-release.contribution_count // 1000))
    public = Client()
    staff = Client()
    staff.force_login(reviewer())
    manager = Client()
    manager.force_login(call_manager())
    slug = call.slug
    credits = reverse("credits", args=[slug])
    return [
        ("baseline: start page", public, reverse("start", args=[slug])),
        ("credits page", public, credits),
        ("credits, last page", public, f"{credits}?page={last_page}"),
        ("a contribution's page", public, reverse("contribution", args=[slug, public_id])),
        ("open data page", public, reverse("open_data", args=[slug])),
        ("feed of releases", public, reverse("releases_feed", args=[slug])),
        *(
            (name, public, reverse("open_data_file", args=[slug, name]))
            for name in ("datapackage.json", "contributions.csv", "contributions.json")
        ),
        (
            "admin: acknowledgements",
            staff,
            reverse("admin:submissions_call_acknowledgements", args=[call.pk]),
        ),
        (
            "admin: releases (preview)",
            manager,
            reverse("admin:submissions_call_releases", args=[call.pk]),
        ),
    ]


def call_manager():
    from django.contrib.auth.models import Group, User

    from submissions.models import CallReviewer

    user, _ = User.objects.get_or_create(username="bench-manager", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="Call managers"))
    for call in Call.objects.all():
        CallReviewer.objects.get_or_create(call=call, reviewer=user)
    return user


def first_byte(client: Client, url: str, repeat: int) -> tuple[list[float], int, int]:
    """A streamed file: milliseconds until its response and first chunk (what a reader waits
    for before the download starts), each of `repeat` requests after a warm-up; queries, and
    the bytes of the whole file (read to its end, untimed)."""
    timings, size = [], 0
    for n in range(repeat + 1):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            chunks = iter(response.streaming_content)
            first = next(chunks)
            if n:
                timings.append((time.perf_counter() - started) * 1000)
        size = len(first) + sum(len(chunk) for chunk in chunks)
        response.close()
    return timings, len(queries), size


def time_pages(call: Call, repeat: int, heading: str) -> None:
    print(f"\n{heading}")
    print(f"{'page':34} {'median ms':>10} {'p95 ms':>8} {'x base':>7} {'queries':>8} {'bytes':>14}")
    baseline = None
    for label, who, url in pages(call):
        if label.endswith((".csv", "contributions.json")):
            timings, queries, size = first_byte(who, url, repeat)
            label = f"{label} (first byte)"
        else:
            timings, queries, _, size = time_page(who, url, repeat)
        median = statistics.median(timings)
        p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) > 1 else timings[0]
        baseline = baseline or median
        print(
            f"{label:34} {median:10.1f} {p95:8.1f} {median / baseline:7.1f} {queries:8d} {size:14,}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--included", type=float, default=0.3, help="share included")
    parser.add_argument("--rounds", type=int, default=1, help="releases published and timed")
    parser.add_argument("--repeat", type=int, default=10, help="requests per page")
    parser.add_argument("--keep", action="store_true", help="keep the call's releases")
    parser.add_argument(
        "--changes", type=int, default=1000, help="contributions changed after the release"
    )
    parser.add_argument("--publish-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publish_child:
        publish_child()
        return
    assert connection.vendor == "postgresql", "a PostgreSQL database of its own"
    print(
        f"database {connection.settings_dict['NAME']}, load average {os.getloadavg()[0]:.2f}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    call = seed(args.submissions, args.included)
    total = Submission.objects.filter(call=call, state=Submission.State.SUBMITTED).count()
    publishable = Submission.objects.publishable(call).count()
    print(f"call {call.slug}: {total:,} submitted, {publishable:,} publishable")
    if not args.keep:
        drop_releases(call)
        # The marks of the load (every included submission, migration 0026's triggers) dated
        # well before the release, as weeks of reviewing before publishing would leave them.
        PublicChange.objects.update(changed_at=timezone.now() - timedelta(days=1))
    for _ in range(args.rounds):
        copy = copy_seconds(call)
        seconds, made = publish_in_child()
        print(
            f"release {made['number']}: {made['contributions']:,} contributions "
            f"({made['added']:,} new), CSV {made['csv_mb']} MB, JSON {made['json_mb']} MB; "
            f"published in {made['seconds']:.2f} s (process {seconds:.2f} s) against "
            f"{copy:.2f} s for a COPY of the same rows: {made['seconds'] / copy:.2f}x COPY; "
            f"peak RSS of the publishing process {made['peak_mb']} MB, "
            f"of its second process {made['peak_child_mb']} MB"
        )
    changed = change_some(call, args.changes)
    print(f"then {changed:,} contributions changed (their organisation) for the preview to find")
    forget_statistics()
    time_pages(call, args.repeat, "pages, no planner statistics (straight after the load):")
    analyse()
    time_pages(call, args.repeat, "pages, after ANALYZE:")


if __name__ == "__main__":
    main()

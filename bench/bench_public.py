"""Time the credits page, a contribution's page, the open data and the status page with many
submissions, from a published release.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cfe_bench \\
        .venv/bin/python bench/bench_public.py --submissions 100000

Use a database of its own: it migrates it, tops it up to N submitted submissions with
`seed_demo` (a twentieth of them "included in toolkit"), publishes a release of the busiest call
(timed, the first time), then requests each page in-process
through Django's test client (no network, no server), --repeat times after one warm-up, reading
streamed files to their end. It prints the median and slowest in milliseconds, the ratio to a
baseline page measured in the same run (the call's start page), the queries and the bytes.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from inprocess import analyse, reviewer, seed_to, time_page  # sets Django up, before any model

from submissions.models import Call, ReleaseEntry, Submission
from submissions.models.links import status_link_url
from submissions.publishing.releases import latest_release, publish_release


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    seed_to(args.submissions)
    analyse()

    busiest = (
        Call.objects.annotate(n=Count("submissions")).order_by("-n").values_list("pk", flat=True)
    )[0]
    call = Call.objects.get(pk=busiest)
    release = latest_release(call)
    if release is None:
        started = time.perf_counter()
        release = publish_release(call, number=1)
        print(f"release 1 published in {time.perf_counter() - started:.1f} s")
    assert release is not None
    sample = Submission.objects.included(call).order_by("pk").first()
    public_id = ReleaseEntry.objects.filter(release=release).order_by("-position")[0]
    last_page = max(1, -(-release.contribution_count // 1000))
    client = Client()
    client.get(status_link_url(sample), follow=True)  # the session now opens the status page
    staff = Client()
    staff.force_login(reviewer())
    slug = call.slug
    pages = [
        ("baseline: start page", client, reverse("start", args=[slug])),
        ("credits page", client, reverse("credits", args=[slug])),
        ("credits, last page", client, reverse("credits", args=[slug]) + f"?page={last_page}"),
        (
            "a contribution's page",
            client,
            reverse("contribution", args=[slug, public_id.contribution.public_id]),
        ),
        ("open data page", client, reverse("open_data", args=[slug])),
        ("feed of releases", client, reverse("releases_feed", args=[slug])),
        *(
            (name, client, reverse("open_data_file", args=[slug, name]))
            for name in ("datapackage.json", "contributions.csv", "contributions.json")
        ),
        ("status page", client, reverse("status_page", args=[slug])),
        (
            "admin: acknowledgements",
            staff,
            reverse("admin:submissions_call_acknowledgements", args=[call.pk]),
        ),
    ]
    total = Submission.objects.filter(call=call, state=Submission.State.SUBMITTED).count()
    included = Submission.objects.included(call).count()
    print(
        f"call {slug}: {total:,} submitted, {included:,} included; "
        f"runs per page: {args.repeat} after a warm-up"
    )
    print(f"{'page':28} {'median ms':>10} {'max ms':>8} {'x base':>7} {'queries':>8} {'bytes':>11}")
    baseline = None
    for label, who, url in pages:
        timings, queries, _, size = time_page(who, url, args.repeat)
        median = statistics.median(timings)
        baseline = baseline or median
        print(
            f"{label:28} {median:10.1f} {max(timings):8.1f} {median / baseline:7.1f}"
            f" {queries:8d} {size:11,}"
        )


if __name__ == "__main__":
    main()

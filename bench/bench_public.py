"""Time the credits page, the open data and the status page with many submissions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cfe_bench \\
        .venv/bin/python bench/bench_public.py --submissions 100000

Use a database of its own: it migrates it, tops it up to N submitted submissions with
`seed_demo` (a twentieth of them "included in toolkit"), then requests each page in-process
through Django's test client (no network, no server), --repeat times after one warm-up, reading
streamed files to their end. It prints the median and slowest in milliseconds, the ratio to a
baseline page measured in the same run (the call's start page), the queries and the bytes.
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from inprocess import analyse, reviewer, seed_to, time_page  # sets Django up, before any model

from submissions.models import Call, Submission
from submissions.models.links import status_link_url


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
    sample = Submission.objects.included(call).order_by("pk").first()
    client = Client()
    client.get(status_link_url(sample), follow=True)  # the session now opens the status page
    staff = Client()
    staff.force_login(reviewer())
    slug = call.slug
    pages = [
        ("baseline: start page", client, reverse("start", args=[slug])),
        ("credits page", client, reverse("credits", args=[slug])),
        ("open data page", client, reverse("open_data", args=[slug])),
        ("datapackage.json", client, reverse("open_data_package", args=[slug])),
        ("contributions.csv", client, reverse("open_data_csv", args=[slug])),
        ("contributions.json", client, reverse("open_data_json", args=[slug])),
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

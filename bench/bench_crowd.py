"""The start page's speed while a crowd downloads the open data (issue 20 item 3), and the time
to publish a release against a COPY of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cfe_crowd_bench \\
        .venv/bin/python bench/bench_crowd.py --included 5756

Use a database of its own. It migrates it, tops the seeded call up to --submissions with
`seed_demo`, marks --included of them "Included in toolkit", publishes a release (timed, against
`COPY` of the same rows in the same run), then starts gunicorn on 127.0.0.1 (DEBUG off, 2 gthread
workers x 4 threads, as the journey benchmark) and times the start page, one request at a time:
alone, then while --clients threads download contributions.csv in a loop (whole files, no
If-None-Match; a 503 "busy" is retried after its Retry-After, as a browser or `curl --retry`
would), then while they download it again with the ETag they were given (304s). It prints the
three side by side, and the downloads' count and bytes.
"""

import argparse
import http.client
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
RELEASES_ROOT = tempfile.mkdtemp(prefix="bench-crowd-releases-")
SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50)
ENV = {
    **os.environ,
    "DEBUG": "0",
    "SECRET_KEY": SECRET_KEY,
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_COOKIES": "0",
    "SECURE_SSL_REDIRECT": "0",
    "RELEASES_ROOT": RELEASES_ROOT,
    "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "callforevidence.settings",
}
os.environ.update(ENV)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.urls import reverse  # noqa: E402
from server import gunicorn  # noqa: E402

from submissions.models import Call, Release, Submission  # noqa: E402
from submissions.publishing.releases import latest_release, publish_release  # noqa: E402

CALL = "what-works-social-media"


def seed(submissions: int, included: int) -> Call:
    call_command("migrate", verbosity=0)
    call = Call.objects.get(slug=CALL)
    have = Submission.objects.filter(call=call, state=Submission.State.SUBMITTED).count()
    if have < submissions:
        with open(os.devnull, "w") as quiet:
            call_command("seed_demo", submissions=submissions - have, seed=have + 1, stdout=quiet)
    submitted = Submission.objects.filter(call=call, state=Submission.State.SUBMITTED)
    submitted.update(review_status=Submission.ReviewStatus.NEW)
    chosen = submitted.order_by("pk").values("pk")[:included]
    Submission.objects.filter(pk__in=chosen).update(review_status=Submission.ReviewStatus.INCLUDED)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE submissions_submission")
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


def publish(call: Call) -> tuple[Release, float]:
    latest = latest_release(call)
    started = time.perf_counter()
    release = publish_release(call, number=(latest.number if latest else 0) + 1)
    assert release is not None
    return release, time.perf_counter() - started


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, int, dict]:
    """Status, bytes read and headers of one GET, read to its end."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        size = 0
        while chunk := response.read(1024 * 1024):
            size += len(chunk)
        return response.status, size, dict(response.getheaders())
    finally:
        conn.close()


def start_page_ms(port: int, path: str, requests: int) -> list[float]:
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        status, _size, _headers = get(port, path)
        assert status == 200, status
        timings.append((time.perf_counter() - started) * 1000)
    return timings


class Crowd:
    """`clients` threads downloading one file in a loop until stopped."""

    def __init__(self, port: int, path: str, clients: int, etag: str = ""):
        self.port, self.path, self.etag = port, path, etag
        self.stop = threading.Event()
        self.downloads = self.bytes = self.busy = 0
        self.statuses: set[int] = set()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.loop) for _ in range(clients)]

    def loop(self) -> None:
        headers = {"If-None-Match": self.etag} if self.etag else {}
        while not self.stop.is_set():
            status, size, answer = get(self.port, self.path, headers)
            with self.lock:
                self.downloads += status != 503
                self.bytes += size
                self.statuses.add(status)
                self.busy += status == 503
            if status == 503:  # as a browser or curl --retry would: after Retry-After
                self.stop.wait(int(answer.get("Retry-After", "1")))

    def __enter__(self) -> "Crowd":
        self.started = time.perf_counter()
        for thread in self.threads:
            thread.start()
        time.sleep(1)  # every client mid-download before the start page is timed
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        self.seconds = time.perf_counter() - self.started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20_000)
    parser.add_argument("--included", type=int, default=5_756)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--port", type=int, default=8710)
    args = parser.parse_args()

    print(f"database {connection.settings_dict['NAME']} ({connection.vendor}), "
          f"load average {os.getloadavg()[0]:.2f} at start")  # fmt: skip
    call = seed(args.submissions, args.included)
    copy = copy_seconds(call)
    release, seconds = publish(call)
    print(
        f"release {release.number}: {release.contribution_count:,} contributions, "
        f"CSV {release.csv_size / 1e6:.1f} MB, JSON {release.json_size / 1e6:.1f} MB; "
        f"published in {seconds:.2f} s against {copy:.2f} s for a COPY of the same rows "
        f"({seconds / copy:.1f}x)"
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=ENV, check=True,
    )  # fmt: skip
    start = reverse("start", args=[call.slug])
    csv_path = reverse("open_data_file", args=[call.slug, "contributions.csv"])
    log = Path(tempfile.mkdtemp(prefix="bench-crowd-")) / "gunicorn.log"
    options = ["--workers", "2", "--worker-class", "gthread", "--threads", "4",
               "--worker-tmp-dir", "/dev/shm" if Path("/dev/shm").is_dir() else "/tmp"]  # fmt: skip
    with gunicorn(args.port, ENV, log, *options):
        start_page_ms(args.port, start, 5)  # warm-up
        _, _, headers = get(args.port, csv_path)
        alone = start_page_ms(args.port, start, args.requests)
        with Crowd(args.port, csv_path, args.clients) as crowd:
            crowded = start_page_ms(args.port, start, args.requests)
        with Crowd(args.port, csv_path, args.clients, headers["ETag"]) as revalidating:
            revalidated = start_page_ms(args.port, start, args.requests)

    print(f"\nstart page, {args.requests} requests one at a time (ms):")
    print(f"{'':34} {'median':>8} {'p95':>8} {'x alone':>8}")
    base = statistics.median(alone)
    for label, timings in [
        ("alone", alone),
        (f"{args.clients} clients downloading the CSV", crowded),
        (f"{args.clients} clients revalidating (304)", revalidated),
    ]:
        median = statistics.median(timings)
        p95 = statistics.quantiles(timings, n=20)[-1]
        print(f"{label:34} {median:8.1f} {p95:8.1f} {median / base:8.2f}")
    for label, run in [("downloads", crowd), ("revalidations", revalidating)]:
        print(
            f"{label}: {run.downloads} in {run.seconds:.1f} s "
            f"({run.downloads / run.seconds:.1f}/s, {run.bytes / run.seconds / 1e6:.0f} MB/s), "
            f"statuses {sorted(run.statuses)}, {run.busy} answered 503 (busy, Retry-After)"
        )


if __name__ == "__main__":
    main()

"""Pages timed in-process, for bench_admin.py and bench_public.py: Django's test client, no server.

Importing this module sets Django up with the test settings (DEBUG off, plain static files
storage, a throwaway secret key) on DATABASE_URL: use a database of its own.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from submissions.models import Call, CallReviewer, Submission  # noqa: E402


def seed_to(target: int) -> float | None:
    """Migrate, then seed up to `target` submitted submissions; the seconds seeding took."""
    print(f"database: {connection.vendor}")
    call_command("migrate", verbosity=0)
    have = Submission.objects.filter(state=Submission.State.SUBMITTED).count()
    if have >= target:
        return None
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", submissions=target - have, seed=have + 1, stdout=quiet)
    return time.perf_counter() - started


def analyse() -> None:
    """Fresh planner statistics after bulk inserts, as autovacuum would give them in time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ["submission", "attachment", "submission_themes"]:
                cursor.execute(f"VACUUM ANALYZE submissions_{table}")


def reviewer() -> User:
    """A reviewer of every call that holds the seeded rows (calls are kept apart)."""
    user, _ = User.objects.get_or_create(username="bench-reviewer", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="Reviewers"))
    for call in Call.objects.all():
        CallReviewer.objects.get_or_create(call=call, reviewer=user)
    return user


def fetch(client: Client, url: str) -> tuple[HttpResponse, int]:
    """The page, read to its end (streamed files too), and its bytes. A redirect is an error."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, len(body)


def time_page(client: Client, url: str, repeat: int) -> tuple[list[float], int, HttpResponse, int]:
    """Milliseconds of each of `repeat` requests after a warm-up; queries, response and bytes."""
    fetch(client, url)  # warm-up: caches, connection, first-time imports
    timings = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response, size = fetch(client, url)
            timings.append((time.perf_counter() - started) * 1000)
    return timings, len(queries), response, size

"""Where a journey's time goes: every page in-process, through Django's test client, DEBUG off.

    .venv/bin/python bench/profile_journey.py --journeys 200 [--tree]

Uses the benchmark's database (create it with bench_journey.py first). Prints the CPU time and
queries of each page, the split of the Python side into template rendering, database work (ORM,
driver and the wait for PostgreSQL), form validation and the rest, from pyinstrument's samples,
and the PostgreSQL backend's own CPU. No HTTP server and no load generator: this is the
application's cost alone, to set against gunicorn's CPU per submission in bench_journey.py.
"""

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_journey import DEFAULT_DATABASE_URL  # noqa: E402

from tests.journey_steps import Step, walk  # noqa: E402

# The innermost of these frames on the stack names the category of a sample.
CATEGORIES = {
    ("django/template/backends/django.py", "render"): "templates (crispy forms included)",
    ("django/db/models/sql/compiler.py", "execute_sql"): "database: ORM, driver, PostgreSQL",
    ("django/forms/forms.py", "full_clean"): "form validation",
}
OTHER = "request handling, middleware, views"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--journeys", type=int, default=200)
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    )
    parser.add_argument("--tree", action="store_true", help="also print pyinstrument's call tree")
    return parser.parse_args()


def split_by_category(frame, category: str = OTHER, seconds=None) -> dict[str, float]:
    """Seconds of samples per category: each frame's own time goes to its innermost category."""
    seconds = defaultdict(float) if seconds is None else seconds
    path = (frame.file_path or "").replace(os.sep, "/")
    for (suffix, function), name in CATEGORIES.items():
        if frame.function == function and path.endswith(suffix):
            category = name
    seconds[category] += frame.time - sum(child.time for child in frame.children)
    for child in frame.children:
        split_by_category(child, category, seconds)
    return seconds


def main() -> int:
    args = parse_args()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="callforevidence.settings",
        DATABASE_URL=args.database_url,
        DEBUG="0",
        SECRET_KEY=os.environ.get("SECRET_KEY") or "profile-only-" + "x" * 40,
        ALLOWED_HOSTS="testserver",
        SECURE_COOKIES="0",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    import django

    django.setup()

    import psutil
    from django.db import connection
    from django.test import Client
    from pyinstrument import Profiler

    client = Client(enforce_csrf_checks=True)
    page_cpu: dict[str, float] = defaultdict(float)
    page_queries: dict[str, int] = defaultdict(int)

    def visit(method: str, path: str, step: Step, data: dict | None = None):
        name = f"{method} {step.name}"

        def count(execute, sql, params, many, context):
            page_queries[name] += 1
            return execute(sql, params, many, context)

        started = time.process_time()
        # execute_wrapper, not CaptureQueriesContext: the debug cursor would add its own cost.
        with connection.execute_wrapper(count):
            response = client.get(path) if method == "GET" else client.post(path, data)
        page_cpu[name] += time.process_time() - started
        expected = 200 if method == "GET" else 302
        if response.status_code != expected:
            raise SystemExit(f"{method} {path} answered {response.status_code}")
        return response.content.decode()

    def journey() -> None:
        client.cookies.clear()
        walk(
            lambda path, step: visit("GET", path, step),
            lambda path, step, data: visit("POST", path, step, data),
        )

    for _ in range(20):  # template caches, connection, imports
        journey()
    page_cpu.clear()
    page_queries.clear()
    backend = psutil.Process(connection.connection.info.backend_pid)
    postgres_before = sum(backend.cpu_times()[:2])

    profiler = Profiler(interval=0.001)
    profiler.start()
    started = time.process_time()
    for _ in range(args.journeys):
        journey()
    total = time.process_time() - started
    session = profiler.stop()
    postgres = sum(backend.cpu_times()[:2]) - postgres_before

    n = args.journeys
    print(f"{n} journeys in-process (test client, DEBUG off), CPU per journey:")
    print(f"{'page':<26}{'CPU ms':>8}{'queries':>9}")
    for name, seconds in page_cpu.items():
        print(f"{name:<26}{1000 * seconds / n:>8.1f}{page_queries[name] / n:>9.0f}")
    print(f"{'journey':<26}{1000 * total / n:>8.1f}{sum(page_queries.values()) / n:>9.0f}")
    print("split of the Python side (pyinstrument samples, wall time):")
    split = split_by_category(session.root_frame())
    measured = sum(split.values())
    for name, seconds in sorted(split.items(), key=lambda item: -item[1]):
        print(f"  {name:<40}{1000 * seconds / n:>6.1f} ms {100 * seconds / measured:>4.0f}%")
    print(f"PostgreSQL backend: {1000 * postgres / n:.1f} ms per journey")
    if args.tree:
        print(profiler.output_text(unicode=False, color=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

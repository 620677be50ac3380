"""Where a journey's CPU goes: every page in-process, through Django's test client, DEBUG off.

    .venv/bin/python bench/profile_journey.py --journeys 200 [--pyinstrument]

Uses the benchmark's database (create it with bench_journey.py first). Prints the CPU time of
each page, split into template rendering, database work (ORM and driver), form validation and
the rest, plus the PostgreSQL backend's own CPU. No HTTP server and no load generator: this is
the application's cost alone, to set against gunicorn's CPU per submission in bench_journey.py.
"""

import argparse
import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_journey import DEFAULT_DATABASE_URL  # noqa: E402
from locustfile import ABOUT, ANSWER, CALL, CSRF_INPUT, LINKS  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--journeys", type=int, default=200)
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    )
    parser.add_argument("--pyinstrument", action="store_true", help="also print the call tree")
    return parser.parse_args()


class Categories:
    """Exclusive CPU time per category: time inside nested calls goes to the innermost one."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.stack = ["request handling, middleware, views"]
        self.mark = time.process_time()

    def tick(self) -> None:
        now = time.process_time()
        self.seconds[self.stack[-1]] += now - self.mark
        self.mark = now

    def wrap(self, owner, name: str, category: str) -> None:
        original = owner.__dict__[name]

        def wrapper(*args, **kwargs):
            self.tick()
            self.stack.append(category)
            try:
                return original(*args, **kwargs)
            finally:
                self.tick()
                self.stack.pop()

        setattr(owner, name, wrapper)

    def reset(self) -> None:
        self.tick()
        self.seconds.clear()


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
    from django.db.models.sql import compiler
    from django.forms.forms import BaseForm
    from django.template.backends.django import Template
    from django.test import Client

    categories = Categories()
    categories.wrap(Template, "render", "templates (crispy forms included)")
    for klass in (
        compiler.SQLCompiler,
        compiler.SQLInsertCompiler,
        compiler.SQLUpdateCompiler,
        compiler.SQLDeleteCompiler,
    ):
        if "execute_sql" in klass.__dict__:
            categories.wrap(klass, "execute_sql", "database: ORM and driver")
    categories.wrap(BaseForm, "full_clean", "form validation")

    client = Client(enforce_csrf_checks=True)
    page_cpu: dict[str, float] = defaultdict(float)
    page_queries: dict[str, int] = defaultdict(int)
    base = f"/{CALL}/"

    def visit(name: str, method: str, path: str, data: dict | None = None):
        def count(execute, sql, params, many, context):
            page_queries[f"{method} {name}"] += 1
            return execute(sql, params, many, context)

        started = time.process_time()
        # execute_wrapper, not CaptureQueriesContext: the debug cursor would add its own cost.
        with connection.execute_wrapper(count):
            response = client.get(path) if method == "GET" else client.post(path, data)
        page_cpu[f"{method} {name}"] += time.process_time() - started
        expected = 200 if method == "GET" else 302
        if response.status_code != expected:
            raise SystemExit(f"{method} {path} answered {response.status_code}")
        return response.content.decode()

    def token(page: str) -> dict[str, str]:
        return {"csrfmiddlewaretoken": CSRF_INPUT.search(page).group(1)}

    def journey() -> None:
        client.cookies.clear()
        visit("start", "GET", base)
        page = visit("licence", "GET", f"{base}licence/")
        visit("licence", "POST", f"{base}licence/", {"consent": "yes", **token(page)})
        page = visit("about-you", "GET", f"{base}about-you/")
        visit("about-you", "POST", f"{base}about-you/", {**ABOUT, **token(page)})
        page = visit("evidence", "GET", f"{base}evidence/")
        fields = re.findall(r'name="(answer_\d+)"', page)
        answers = {**dict.fromkeys(fields, ""), fields[0]: ANSWER, "links": LINKS}
        visit("evidence", "POST", f"{base}evidence/", {**answers, **token(page)})
        page = visit("files", "GET", f"{base}files/")
        visit("files", "POST", f"{base}files/", {"action": "continue", **token(page)})
        page = visit("check-your-answers", "GET", f"{base}check-your-answers/")
        visit("check-your-answers", "POST", f"{base}check-your-answers/", token(page))
        visit("submitted", "GET", f"{base}submitted/")

    for _ in range(20):  # template caches, connection, imports
        journey()
    page_cpu.clear()
    page_queries.clear()
    categories.reset()
    backend = psutil.Process(connection.connection.info.backend_pid)
    postgres_before = sum(backend.cpu_times()[:2])

    profiler = None
    if args.pyinstrument:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001)
        profiler.start()
    started = time.process_time()
    for _ in range(args.journeys):
        journey()
    total = time.process_time() - started
    if profiler is not None:
        profiler.stop()
    categories.tick()  # charges the last interval
    postgres = sum(backend.cpu_times()[:2]) - postgres_before

    n = args.journeys
    print(f"{n} journeys in-process (test client, DEBUG off), CPU per journey:")
    print(f"{'page':<26}{'CPU ms':>8}{'queries':>9}")
    for name, seconds in page_cpu.items():
        print(f"{name:<26}{1000 * seconds / n:>8.1f}{page_queries[name] / n:>9.0f}")
    print(f"{'journey':<26}{1000 * total / n:>8.1f}{sum(page_queries.values()) / n:>9.0f}")
    print("split of the Python side:")
    measured = sum(categories.seconds.values())
    for name, seconds in sorted(categories.seconds.items(), key=lambda item: -item[1]):
        print(f"  {name:<40}{1000 * seconds / n:>6.1f} ms {100 * seconds / measured:>4.0f}%")
    print(f"PostgreSQL backend: {1000 * postgres / n:.1f} ms per journey")
    if profiler is not None:
        print(profiler.output_text(unicode=False, color=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

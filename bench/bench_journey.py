"""Benchmark the contributor's journey end to end: gunicorn, PostgreSQL and locust on this machine.

    .venv/bin/python bench/bench_journey.py --journeys 2000

Creates and migrates a dedicated database (cfe_bench unless --database-url or DATABASE_URL says
otherwise), collects static files, starts gunicorn on 127.0.0.1 with DEBUG off,
measures the bare /healthz view, then runs N complete journeys with locust, prints the figures,
checks the submitted rows in PostgreSQL and stops the server. The load generator, the server and
PostgreSQL share the machine's cores; the CPU each used is printed with the figures.
"""

import argparse
import contextlib
import json
import os
import platform
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import django
import psutil
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
from server import gunicorn  # noqa: E402

from tests.journey_steps import CALL, PAGES  # noqa: E402

LOCUSTFILE = ROOT / "bench" / "locustfile.py"
RESULTS = ROOT / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cfe_bench"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--journeys", type=int, default=2000, help="complete journeys to run")
    parser.add_argument("--users", type=int, default=8, help="concurrent contributors, no pauses")
    # gthread over sync: on this shared 2-core machine their throughput was the same within the
    # noise (9.1 vs 9.3 submissions/s, 2000 journeys each, 2026-11-25), but a sync worker is
    # blocked whole by anything slow in a request (uploads from slow phones), and with 2
    # workers that is half the site. 4 threads leave room for such waits; the pages themselves
    # are CPU-bound Python.
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2 cores here)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        help="PostgreSQL database to create if missing and migrate (default: cfe_bench)",
    )
    parser.add_argument("--reset", action="store_true", help="drop and recreate the database first")
    parser.add_argument("--max-seconds", type=int, default=300, help="bound on the journey run")
    parser.add_argument("--healthz-seconds", type=int, default=15, help="length of the bare run")
    parser.add_argument("--warmup", type=int, default=40, help="journeys before measuring")
    args = parser.parse_args()
    if urlsplit(args.database_url).scheme not in ("postgres", "postgresql"):
        parser.error("--database-url must be a PostgreSQL URL: the figures are for PostgreSQL")
    if args.worker_class != "gthread":
        args.threads = 1
    return args


# --- The database -----------------------------------------------------------------------------


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def prepare_database(url: str, reset: bool) -> None:
    name = database_name(url)
    with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
        if reset:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    manage("migrate", "--noinput", "-v0", env=server_env(url, secret_key="migrate-only"))


def submitted_rows(url: str) -> tuple[int, int]:
    """(submitted, drafts) of the seeded call."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE s.state = 'submitted'),"
            " count(*) FILTER (WHERE s.state = 'draft')"
            " FROM submissions_submission s JOIN submissions_call c ON c.id = s.call_id"
            " WHERE c.slug = %s",
            [CALL],
        ).fetchone()
    return row[0], row[1]


def buffers_used(url: str) -> int:
    """Shared buffers this database's backends have read or found so far: the pages PostgreSQL
    touched, which grow with the depth of its indexes but not with the machine's load."""
    # An idle backend reports its counts within 10 s (PostgreSQL 15); the server's are idle now.
    time.sleep(11)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_force_next_flush()")
        row = conn.execute(
            "SELECT blks_hit + blks_read FROM pg_stat_database WHERE datname = %s",
            [database_name(url)],
        ).fetchone()
    return row[0]


def postgres_backend_pids(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database_name(url)],
        ).fetchall()
    return [pid for (pid,) in rows]


# --- The server -------------------------------------------------------------------------------


def server_env(url: str, secret_key: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DEBUG="0",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="127.0.0.1",
        # Plain HTTP on loopback: Secure cookies would never come back from the load generator.
        SECURE_COOKIES="0",
        SECURE_SSL_REDIRECT="0",
        # Receipts are only queued (no worker runs here); never sent to a real mailbox.
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        LOG_LEVEL="WARNING",
    )
    return env


def manage(*command: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)


# --- Measuring --------------------------------------------------------------------------------


def cpu_snapshot(server: psutil.Process, database_url: str) -> dict[str, dict[int, float]]:
    """CPU seconds so far, by process: gunicorn, the PostgreSQL backends, locust, the machine."""

    def by_pid(pids: list[int]) -> dict[int, float]:
        seconds = {}
        for pid in pids:
            with contextlib.suppress(psutil.Error):  # a process gone since it was listed
                times = psutil.Process(pid).cpu_times()
                seconds[pid] = times.user + times.system
        return seconds

    machine = psutil.cpu_times()
    idle = machine.idle + getattr(machine, "iowait", 0.0)
    # Locust is a child this process waits for: the kernel counts its CPU exactly.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "gunicorn": by_pid([server.pid, *(p.pid for p in server.children(recursive=True))]),
        "postgres": by_pid(postgres_backend_pids(database_url)),
        "locust": {0: children.ru_utime + children.ru_stime},
        "machine_busy": {0: sum(machine) - idle},
        "machine_total": {0: sum(machine)},
    }


def cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict:
    # Summed over the processes alive at the end; one that started during the run counts from 0.
    return {
        what: sum(seconds - before[what].get(pid, 0.0) for pid, seconds in after[what].items())
        for what in after
    }


@dataclass
class Phase:
    summary: dict
    cpu: dict[str, float]


def run_locust(
    server: psutil.Process,
    args: argparse.Namespace,
    user_class: str,
    seconds: int,
    extra: list[str],
    workdir: Path,
    tag: str,
) -> Phase:
    summary_file = workdir / f"{tag}.json"
    command = [
        sys.executable, "-m", "locust",
        "-f", str(LOCUSTFILE), user_class,
        "--headless", "--only-summary", "--loglevel", "WARNING",
        "--users", str(args.users), "--spawn-rate", str(args.users),
        "--host", f"http://127.0.0.1:{args.port}",
        "--run-time", f"{seconds}s",
        # When the time bound strikes, a journey under way may finish rather than be cut.
        "--stop-timeout", "30",
        "--exit-code-on-error", "0",
        "--summary-file", str(summary_file),
        *extra,
    ]  # fmt: skip
    before = cpu_snapshot(server, args.database_url)
    with (workdir / f"{tag}.log").open("wb") as log:
        try:
            subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                           timeout=seconds + 60)  # fmt: skip
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"locust overran its time bound; see {workdir}/{tag}.log") from None
    cpu = cpu_used(before, cpu_snapshot(server, args.database_url))
    return Phase(summary=json.loads(summary_file.read_text()), cpu=cpu)


@dataclass
class Result:
    label: str
    healthz: Phase
    journeys: Phase
    rows_added: int
    drafts_added: int
    buffers: int


def bench(args: argparse.Namespace, env: dict[str, str], workdir: Path) -> Result:
    if args.worker_class == "gthread":
        label = f"{args.workers} gthread workers x {args.threads} threads"
    else:
        label = f"{args.workers} {args.worker_class} workers"
    print(f"-- {label}: starting gunicorn on 127.0.0.1:{args.port}", flush=True)
    tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else tempfile.gettempdir()
    options = [
        "--workers", str(args.workers),
        "--worker-class", args.worker_class,
        "--threads", str(args.threads),
        # The heartbeat file on tmpfs: a disk write per request would be measured too.
        "--worker-tmp-dir", tmp_dir,
    ]  # fmt: skip
    with gunicorn(args.port, env, workdir / "gunicorn.log", *options) as server:
        print(f"   bare /healthz for {args.healthz_seconds} s", flush=True)
        healthz = run_locust(server, args, "HealthzUser", args.healthz_seconds, [], workdir,
                             "healthz")  # fmt: skip
        if args.warmup:
            # Fills the template caches and opens the persistent database connections.
            run_locust(server, args, "JourneyUser", args.max_seconds,
                       ["--journeys", str(args.warmup)], workdir, "warmup")  # fmt: skip
        before = submitted_rows(args.database_url)
        buffers_before = buffers_used(args.database_url)
        print(f"   {args.journeys} journeys, {args.users} users", flush=True)
        journeys = run_locust(server, args, "JourneyUser", args.max_seconds,
                              ["--journeys", str(args.journeys)], workdir, "journeys")  # fmt: skip
        buffers = buffers_used(args.database_url) - buffers_before
        after = submitted_rows(args.database_url)
    return Result(label, healthz, journeys, after[0] - before[0], after[1] - before[1], buffers)


# --- Reporting --------------------------------------------------------------------------------


def report(result: Result, args: argparse.Namespace) -> dict:
    journeys = result.journeys.summary["journeys"]
    completed, failed = journeys["completed"], journeys["failed"]
    per_second = completed / journeys["seconds"] if journeys["seconds"] else 0.0
    total = result.journeys.summary["total"]
    page_rps = total["requests"] / total["seconds"] if total["seconds"] else 0.0
    bare = result.healthz.summary["total"]
    bare_rps = bare["requests"] / bare["seconds"] if bare["seconds"] else 0.0
    pages = {page["name"]: page for page in result.journeys.summary["pages"]}
    cpu = result.journeys.cpu
    print()
    print(f"== {result.label}, {args.users} users with no pauses")
    print(
        f"journeys: {completed} completed, {failed} failed in {journeys['seconds']:.1f} s"
        f" -> {per_second:.1f} submissions/s"
    )
    print(f"{'page':<26}{'requests':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'failures':>9}")
    for name in [*PAGES, *sorted(set(pages) - set(PAGES))]:
        if name in pages:
            page = pages[name]
            print(
                f"{name:<26}{page['requests']:>9}{page['p50_ms']:>8.0f}{page['p95_ms']:>8.0f}"
                f"{page['p99_ms']:>8.0f}{page['failures']:>9}"
            )
    print(
        f"{'all pages':<26}{total['requests']:>9}{total['p50_ms']:>8.0f}{total['p95_ms']:>8.0f}"
        f"{'':>8}{total['failures']:>9}"
    )
    errors = [
        *result.journeys.summary["errors"],
        *result.journeys.summary["exceptions"],
        *result.healthz.summary["errors"],
    ]
    if errors:
        for error in errors:
            where = error.get("name", "locustfile")
            print(f"error: {where}: {error['error']} x{error['occurrences']}")
    else:
        print("errors: none")
    print(
        f"bare /healthz: {bare_rps:.0f} req/s ({args.healthz_seconds} s, {args.users} users,"
        f" p95 {bare['p95_ms']:.0f} ms, {bare['failures']} failures)"
    )
    print(
        f"ratio: journey pages {page_rps:.0f} req/s = {page_rps / bare_rps:.2f} of bare;"
        f" one submission costs {bare_rps / per_second:.0f} bare requests"
        if bare_rps and per_second
        else "ratio: n/a"
    )
    if completed:
        print(
            "CPU per submission: "
            f"gunicorn {1000 * cpu['gunicorn'] / completed:.1f} ms, "
            f"PostgreSQL {1000 * cpu['postgres'] / completed:.1f} ms, "
            f"locust {1000 * cpu['locust'] / completed:.1f} ms; "
            f"machine {100 * cpu['machine_busy'] / cpu['machine_total']:.0f}% busy, "
            f"of which other processes "
            f"{100 * max(cpu['machine_busy'] - cpu['gunicorn'] - cpu['postgres'] - cpu['locust'], 0) / cpu['machine_total']:.0f}%"  # noqa: E501
        )
        print(
            f"PostgreSQL buffers touched per submission: {result.buffers / completed:,.0f}"
            " (read or found in shared buffers, all statements)"
        )
    matches = result.rows_added == completed
    print(
        f"database: {result.rows_added} submitted rows added, {completed} journeys completed:"
        f" {'OK' if matches else 'MISMATCH'}; {result.drafts_added} drafts left by failed"
        " or cut journeys"
    )
    return {
        "server": result.label,
        "submissions_per_second": round(per_second, 1),
        "completed": completed,
        "failed": failed,
        "pages": pages,
        "all_pages": total,
        "bare_rps": round(bare_rps),
        "page_rps": round(page_rps),
        "cpu_seconds": cpu,
        "rows_added": result.rows_added,
        "buffers": result.buffers,
        "rows_match": matches,
        "errors": errors,
    }


def main() -> int:
    args = parse_args()
    secret_key = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50)
    env = server_env(args.database_url, secret_key)
    started = datetime.now(UTC)
    print(
        f"callforevidence journey benchmark, {started:%Y-%m-%d %H:%M} UTC, "
        f"{psutil.cpu_count()} CPUs shared by locust, gunicorn and PostgreSQL, "
        f"load average {os.getloadavg()[0]:.2f} at start",
        flush=True,
    )
    print(
        f"Python {platform.python_version()}, Django {django.get_version()},"
        f" database {database_name(args.database_url)}",
        flush=True,
    )
    prepare_database(args.database_url, args.reset)
    # The manifest storage refuses to render a page whose static file it does not know.
    manage("collectstatic", "--noinput", "-v0", env=env)
    RESULTS.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-journey-"))
    figures = report(bench(args, env, workdir), args)
    out = RESULTS / f"journey-{started:%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps({"started": started.isoformat(), "args": vars(args),
                               "figures": figures}, indent=2, default=str))  # fmt: skip
    ok = figures["rows_match"] and not figures["errors"] and figures["completed"]
    if ok:
        shutil.rmtree(workdir)
        print(f"\nfigures saved to {out.relative_to(ROOT)}")
    else:
        print(f"\nfigures saved to {out.relative_to(ROOT)}; FAILED, logs kept in {workdir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

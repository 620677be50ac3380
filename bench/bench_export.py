"""Benchmark the CSV export against a plain PostgreSQL COPY of the same columns, in one run.

    .venv/bin/python bench/bench_export.py [--rows 100000] [--rounds 3] [--keep]
        [--straight-after-load]

Seeds a dedicated database (dropped and re-created: never point it at real data) with
`seed_demo`, adds file metadata to every tenth submission, then alternates, round by round, a
plain `COPY (SELECT the same columns) TO STDOUT (FORMAT csv)` read by psycopg into a file, and
`manage.py export_submissions -o FILE` in a child process. Prints both times, their ratio (medians)
and the export's peak memory (maximum resident set size of the child, from wait4).

With --straight-after-load, autovacuum is off for the tables and nothing analyses them after the
load (`seed_demo --no-analyse`, no VACUUM ANALYZE): the planner plans every round with the
statistics from before the load, as it does right after a burst of submissions.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# The tables an export reads in bulk, left unanalysed by --straight-after-load.
STALE_TABLES = ["submissions_submission", "submissions_attachment", "submissions_submission_themes"]


def run_child(args: list[str], env: dict[str, str], output: Path | None = None):
    """Run a child to the end: (seconds, peak RSS in MB, stderr text)."""
    start = time.perf_counter()
    stdout = open(output, "wb") if output else subprocess.DEVNULL  # noqa: SIM115
    try:
        child = subprocess.Popen(args, cwd=ROOT, env=env, stdout=stdout, stderr=subprocess.PIPE)
        stderr = child.stderr.read().decode()
        _, status, usage = os.wait4(child.pid, 0)
    finally:
        if output:
            stdout.close()
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        sys.exit(f"{' '.join(args)} failed ({child.returncode}):\n{stderr}")
    return seconds, usage.ru_maxrss / 1024, stderr


def baseline_sql(question_ids: list[int]) -> str:
    """The export's columns, as stored: no formatting, no escaping, no ordering."""
    answers = ", ".join(f'answer."{pk}"' for pk in question_ids)
    record = ", ".join(f'"{pk}" text' for pk in question_ids)
    return f"""
        COPY (
            SELECT s.reference, c.title, s.submitted_at, s.is_late, s.review_status,
                s.name, s.email, s.role, s.organisation, s.orcid, s.website,
                s.credit_preference, s.consent_licence_id, s.consent_given_at, {answers},
                s.links,
                (SELECT string_agg(a.original_name || ' ' || a.size || ' ' || a.id, ' ')
                    FROM submissions_attachment a WHERE a.submission_id = s.id),
                (SELECT string_agg(t.name, ' ') FROM submissions_submission_themes st
                    JOIN submissions_theme t ON t.id = st.theme_id
                    WHERE st.submission_id = s.id),
                s.reviewer_notes
            FROM submissions_submission s
            JOIN submissions_call c ON c.id = s.call_id
            CROSS JOIN LATERAL jsonb_to_record(s.answers) AS answer({record})
            WHERE s.state = 'submitted'
        ) TO STDOUT (FORMAT csv)
    """


def plain_copy(url: str, sql: str, target: Path) -> float:
    start = time.perf_counter()
    with (
        psycopg.connect(url) as conn,
        conn.cursor() as cursor,
        open(target, "wb") as file,
    ):
        # The export turns JIT off for its statement; the baseline gets the same, so that the
        # ratio compares the work done, not JIT compile time.
        cursor.execute("SET jit = off")
        with cursor.copy(sql) as copy:
            for block in copy:
                file.write(block)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="cfe_export_bench")
    parser.add_argument("--reuse", action="store_true", help="Keep the seeded data if present.")
    parser.add_argument("--keep", action="store_true", help="Do not drop the database at the end.")
    parser.add_argument(
        "--straight-after-load",
        action="store_true",
        help="Autovacuum off, no ANALYZE after the load: plans from stale statistics.",
    )
    options = parser.parse_args()

    url = f"{options.server}/{options.database}"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-only", "DEBUG": "0"}
    manage = [PYTHON, "manage.py"]
    print(
        f"bench_export: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, Python {platform.python_version()}"
    )

    with psycopg.connect(f"{options.server}/postgres", autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [options.database]
        ).fetchone()
        print(f"PostgreSQL {admin.info.server_version // 10000}, database {options.database}")
        seed = not (options.reuse and exists)
        if seed:
            admin.execute(f'DROP DATABASE IF EXISTS "{options.database}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{options.database}"')

    stale = options.straight_after_load
    if seed:
        run_child([*manage, "migrate", "-v0"], env)
        if stale:
            with psycopg.connect(url, autocommit=True) as conn:
                for table in STALE_TABLES:
                    conn.execute(
                        f"ALTER TABLE {table} SET (autovacuum_enabled = false,"
                        " toast.autovacuum_enabled = false)"
                    )
        seconds, rss, _ = run_child(
            [*manage, "seed_demo", "--submissions", str(options.rows), "--seed", "1"]
            + (["--no-analyse"] if stale else []),
            env,
        )
        print(f"seed_demo --submissions {options.rows:,}: {seconds:.1f} s, peak {rss:.0f} MB")
        with psycopg.connect(url, autocommit=True) as conn:
            # File metadata on every tenth submission, so the Files column has work to do; the
            # export reads no file content.
            conn.execute("""
                INSERT INTO submissions_attachment
                    (submission_id, file, original_name, size, content_type, sha256, uploaded_at)
                SELECT id, 'attachments/' || md5(id::text), 'evidence-' || id || '.pdf',
                    (id * 7919) % 5000000, 'application/pdf', md5(id::text) || md5(id::text),
                    submitted_at
                FROM submissions_submission WHERE id % 10 = 0
            """)
            if not stale:
                conn.execute("VACUUM ANALYZE")  # as autovacuum would, soon after a bulk load

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM submissions_submission WHERE state = 'submitted'"
        ).fetchone()[0]
        answers_kb = conn.execute(
            "SELECT avg(octet_length(answers::text)) / 1024 FROM submissions_submission"
        ).fetchone()[0]
        question_ids = [
            pk
            for (pk,) in conn.execute(
                "SELECT id FROM submissions_question ORDER BY call_id, position"
            )
        ]
        planned = conn.execute(
            "EXPLAIN (FORMAT json) SELECT 1 FROM submissions_submission WHERE state = 'submitted'"
        ).fetchone()[0][0]["Plan"]["Plan Rows"]
        analysed = conn.execute(
            "SELECT last_analyze, last_autoanalyze FROM pg_stat_user_tables"
            " WHERE relname = 'submissions_submission'"
        ).fetchone()
    print(f"{rows:,} submitted submissions, {answers_kb:.1f} KB of answers each on average")
    print(f"the planner expects {planned:,} submitted rows (last analysed: {analysed})")

    copies, exports, peaks = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        copy_file, export_file = Path(tmp, "copy.csv"), Path(tmp, "export.csv")
        for round_ in range(1, options.rounds + 1):
            # Alternate the order, so neither always runs on a warmer cache.
            steps = ["copy", "export"] if round_ % 2 else ["export", "copy"]
            for step in steps:
                # A new file each time: overwriting a large file costs a flush on some systems.
                if step == "copy":
                    copy_file.unlink(missing_ok=True)
                    copies.append(plain_copy(url, baseline_sql(question_ids), copy_file))
                else:
                    export_file.unlink(missing_ok=True)
                    seconds, rss, message = run_child(
                        [*manage, "export_submissions", "-o", str(export_file)], env
                    )
                    exports.append(seconds)
                    peaks.append(rss)
                    assert f"Exported {rows:,} submissions" in message, message
            print(
                f"round {round_}: plain COPY {copies[-1]:.2f} s "
                f"({copy_file.stat().st_size / 2**20:.0f} MB), "
                f"export_submissions {exports[-1]:.2f} s "
                f"({export_file.stat().st_size / 2**20:.0f} MB, peak {peaks[-1]:.0f} MB), "
                f"ratio {exports[-1] / copies[-1]:.2f}"
            )

    copy_median, export_median = statistics.median(copies), statistics.median(exports)
    print(f"plain COPY of the same columns: median {copy_median:.2f} s")
    print(
        f"export_submissions (whole command, incl. Django start-up): median {export_median:.2f} s"
    )
    print(f"ratio export / COPY: {export_median / copy_median:.2f} (target <= 2)")
    print(f"peak memory of export_submissions: {max(peaks):.0f} MB (target < 150 MB)")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")

    if not options.keep:
        with psycopg.connect(f"{options.server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{options.database}" WITH (FORCE)')


if __name__ == "__main__":
    main()

"""What the formula check after breaks costs the COPY path, per line, against the narrower check
it replaced (a sign right after a break, no spaces between), measured in the same run.

    .venv/bin/python bench/bench_formula.py [--rows 20000] [--rounds 7]

Lines are CSV rows of two quoted answers made of seed_demo's own sentences, joined by spaces,
line breaks, "; " and "- " list items, as `copy_rows` (submissions/exports/writer.py) sees them.
Prints the median time of each check over all the lines, and their ratio.
"""

import argparse
import inspect
import os
import platform
import random
import re
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callforevidence.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

from submissions.exports import columns  # noqa: E402
from submissions.management.commands import seed_demo  # noqa: E402

# The check before spaces counted: a sign right after a break.
BREAKS_ONLY = re.compile(
    b"(["
    + re.escape(columns.CELL_BREAKS.encode())
    + b"])(?="
    + b"|".join(re.escape(sign.encode()) for sign in columns.FORMULA_SIGNS)
    + b")"
)


def lines(rows: int) -> list[bytes]:
    sentences = re.findall(r'"([^"\n]{30,})"', inspect.getsource(seed_demo))
    random.seed(1)

    def answer() -> str:
        parts = []
        for _ in range(random.randint(5, 25)):
            parts.append(random.choice(sentences))
            parts.append(random.choice([" ", " ", "\n", "\n\n", "; ", "\n- "]))
        return "".join(parts)

    def cell(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    return [",".join([cell(answer()), cell(answer()), "ABCD2345"]).encode() for _ in range(rows)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    load = os.getloadavg()[0]
    print(
        f"bench_formula: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} CPUs, load {load:.2f}, Python {platform.python_version()}"
    )
    rows = lines(options.rows)
    print(f"{len(rows):,} lines, {sum(map(len, rows)) / 1e6:.1f} MB")
    checks = {"breaks only (before)": BREAKS_ONLY, "breaks and spaces": columns.INNER_FORMULA_UTF8}
    times: dict[str, list[float]] = {name: [] for name in checks}
    for _ in range(options.rounds):  # alternating, so that the machine's load falls on both
        for name, check in checks.items():
            start = time.perf_counter()
            for line in rows:
                check.sub(rb"\1'", line)
            times[name].append(time.perf_counter() - start)
    for name, seconds in times.items():
        rounds = ", ".join(f"{s:.2f}" for s in seconds)
        print(f"{name}: median {statistics.median(seconds):.3f} s (rounds {rounds})")
    before, after = (statistics.median(s) for s in times.values())
    print(f"ratio: {after / before:.2f}; load at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

"""The code names the documents give for a guarantee still exist: docs/security.md's table says
which function or class keeps each guarantee, in which file, and which test shows it. A name
renamed or made public in the code, or a file moved, fails here rather than misleading a reader.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"`([^`]+)`")
# A code name as the table writes it: `take_down()`, `Submission.update_draft(**columns)`,
# `RedactLinkTokens`, `STAFF_SESSION_IDLE_SECONDS`.
NAME = re.compile(r"^([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)(?:\(.*\))?$")
PATH = re.compile(r"^(?:submissions|callforevidence|tests|bench|docs|templates|static)/[\w./-]*$")


def guarantee_rows() -> list[list[str]]:
    text = (ROOT / "docs" / "security.md").read_text()
    table = text.split("## What is guaranteed", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| **")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]


def named(cell: str) -> tuple[list[str], list[str]]:
    """The files and the code names a cell quotes."""
    quoted = [found.strip() for found in CODE.findall(cell)]
    # "`load_draft`/`HeldElsewhere`" and "(`a`, `b`)" are quoted one by one already.
    paths = [q for q in quoted if PATH.match(q)]
    names = [match.group(1) for q in quoted if q not in paths and (match := NAME.match(q))]
    return paths, names


def python_sources(paths: list[str]) -> str:
    files: list[Path] = []
    for path in paths:
        found = ROOT / path
        files += sorted(found.rglob("*.py")) if found.is_dir() else [found]
    return "\n".join(f.read_text() for f in files if f.suffix == ".py" and f.exists())


def test_the_security_table_has_its_rows():
    rows = guarantee_rows()
    assert len(rows) >= 15
    assert all(len(row) == 3 for row in rows), [row[0][:40] for row in rows if len(row) != 3]


def test_every_file_the_security_table_names_exists():
    missing = [
        path
        for row in guarantee_rows()
        for cell in row[1:]
        for path in named(cell)[0]
        if not (ROOT / path).exists()
    ]
    assert missing == []


def test_every_code_name_in_the_security_table_is_in_the_code():
    """A name in the "how" column is in the project's code, as a whole word (the last part of a
    dotted name is the one looked for): `_inflates_within` is not `inflates_within`."""
    everywhere = python_sources(["submissions", "callforevidence"])
    gone = [
        (row[0][:50], name)
        for row in guarantee_rows()
        for name in named(row[1])[1]
        if not re.search(rf"(?<!\w){re.escape(name.rsplit('.', 1)[-1])}\b", everywhere)
    ]
    assert gone == [], gone

"""The open data of a release: its contributions as CSV and JSON, described by a Frictionless
Data Package, built once when the release is published.

Only what the contributor licensed is published, as released: their answers and links (with
any redaction applied), their credit line as they chose it, the public id and page, the release
it first appeared in, and the themes. Never an email address, a role (unless a credit line holds
it), files, review notes or the reference (the reference is what a contributor quotes to staff).

Each file is stored in segments (releases.py); this module says what the bytes are: a row,
a segment of rows, the head and tail around them, and the package.
"""

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from json.encoder import encode_basestring

from django.urls import reverse

from ..common.site import absolute
from ..common.wording import LONDON
from ..exports.columns import CELL_BREAKS, neutralise_breaks, starts_formula
from ..models import Call, Release, ReleaseSegment, release_storage
from .credits import attribution

CSV_NAME = "contributions.csv"
JSON_NAME = "contributions.json"
PACKAGE_NAME = "datapackage.json"
JSON_HEAD = b"["
JSON_TAIL = b"\n]\n"
READ_CHUNK = 1024 * 1024
# Stands for the public id in a page's URL, made once per release rather than once per row.
ID_PLACEHOLDER = "publicidxxxx"


@dataclass(frozen=True)
class Row:
    """One contribution as a release's files hold it."""

    public_id: str
    first_release: int
    first_release_date: date
    credit: str
    themes: list[str]
    answers: list[str]  # one per column of the release, redactions applied
    links: list[str]  # redactions applied


def release_columns(call: Call) -> list[dict]:
    """The questions as a release's files name them, fixed when it is published."""
    return [
        {
            "question": q.pk,
            "name": f"question_{q.position}",
            "title": q.short_title,
            "text": q.text,
        }
        for q in call.questions.all()
    ]


def page_url_pattern(call: Call) -> str:
    return absolute(reverse("contribution", args=[call.slug, ID_PLACEHOLDER]))


def fields(columns: list[dict], *, list_type: str) -> list[dict]:
    """The Table Schema of a row: one list, read by the package, the CSV and the JSON."""
    one_per_line = ", one per line" if list_type == "string" else ""
    return [
        {
            "name": "public_id",
            "title": "Public id",
            "type": "string",
            "description": "The contribution's id, the same in every release.",
            "constraints": {"required": True, "unique": True},
        },
        {
            "name": "url",
            "title": "Page",
            "type": "string",
            "format": "uri",
            "description": "The contribution's own page, with how to cite it.",
        },
        {
            "name": "first_release",
            "title": "First release",
            "type": "integer",
            "description": "The number of the release the contribution first appeared in.",
        },
        {
            "name": "first_release_date",
            "title": "First release date",
            "type": "date",
            "description": "The date of that release (UK).",
        },
        {
            "name": "credit",
            "title": "Credit line",
            "type": "string",
            "description": "How the contributor chose to be credited; empty when they asked "
            "not to be named.",
        },
        {
            "name": "themes",
            "title": "Themes",
            "type": list_type,
            "description": "The themes reviewers gave it"
            + (", separated by “; ”." if list_type == "string" else "."),
        },
        *(
            {
                "name": column["name"],
                "title": column["title"],
                "type": "string",
                "description": column["text"],
            }
            for column in columns
        ),
        {
            "name": "links",
            "title": "Links",
            "type": list_type,
            "description": f"Links to examples or resources{one_per_line}.",
        },
    ]


def csv_header(columns: list[dict]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(
        [field["name"] for field in fields(columns, list_type="string")]
    )
    return buffer.getvalue()


def encode_rows(rows: list[Row], columns: list[dict], url_pattern: str) -> tuple[bytes, bytes]:
    """A segment's bytes: CSV records (CRLF, every cell made safe for spreadsheets as in the
    staff export), and JSON objects each after ",\n" (the file's first comma is dropped when
    the segments are served end to end: see file_chunks).

    The apostrophes of neutralise() go in at the start of each cell, then after the breaks of
    the segment's whole text in one pass (neutralise_breaks): the same bytes as cell by cell
    (tests/publishing/test_open_data_encoding.py), in a third of the time."""
    lines = [
        csv_line(
            [
                row.public_id,
                url_pattern.replace(ID_PLACEHOLDER, row.public_id),
                str(row.first_release),
                row.first_release_date.isoformat(),
                safe_start(row.credit),
                safe_start("; ".join(row.themes)),
                *(safe_start(answer) for answer in row.answers),
                safe_start("\n".join(row.links)),
            ]
        )
        for row in rows
    ]
    # Each record's own CR comes before its LF and the next public id, never a sign: the pass
    # for a CR after which a sign would need its apostrophe is needed only when a cell holds one.
    breaks = CELL_BREAKS if any("\r" in line for line in lines) else CELL_BREAKS.replace("\r", "")
    csv_bytes = neutralise_breaks("\r\n".join([*lines, ""]), breaks).encode()
    json_bytes = json_records(rows, columns, url_pattern, quick_string).encode()
    if len(json_bytes.translate(None, JSON_RARE)) != len(json_bytes):
        json_bytes = json_records(rows, columns, url_pattern, encode_basestring).encode()
    return csv_bytes, json_bytes


def json_records(
    rows: list[Row], columns: list[dict], url_pattern: str, answer: Callable[[str], str]
) -> str:
    """Each row's json.dumps(row, ensure_ascii=False) after ",\n", written out (tests/publishing/
    test_open_data_encoding.py checks it against json.dumps()), its answers escaped by
    `answer`."""
    keys = [f", {encode_basestring(column['name'])}: " for column in columns]
    parts = []
    for row in rows:
        parts += [
            ',\n{"public_id": ',
            encode_basestring(row.public_id),
            ', "url": ',
            encode_basestring(url_pattern.replace(ID_PLACEHOLDER, row.public_id)),
            f', "first_release": {row.first_release:d}, "first_release_date": "',
            row.first_release_date.isoformat(),
            '", "credit": ',
            encode_basestring(row.credit),
            ', "themes": ',
            json_list(row.themes),
        ]
        for key, text in zip(keys, row.answers, strict=True):
            parts += [key, answer(text)]
        parts += [', "links": ', json_list(row.links), "}"]
    return "".join(parts)


# What JSON escapes as \u00XX: the control characters but tab and the line breaks. The forms
# refuse them, so a segment holds one only from old or imported text, and is then written again
# the exact way; finding none is one pass over its bytes in C.
JSON_RARE = bytes(c for c in range(32) if chr(c) not in "\t\n\r")


def quick_string(text: str) -> str:
    """encode_basestring(text) (a string as json.dumps(ensure_ascii=False) writes it) for text
    without JSON_RARE characters, with str.replace: a fifth of the time on 3,000 characters of
    prose."""
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return '"' + escaped + '"'


def safe_start(cell: str) -> str:
    return "'" + cell if starts_formula(cell) else cell


@dataclass(frozen=True)
class Encoded:
    """A segment's bytes and their SHA-256, as encode_segment() makes them."""

    csv: bytes
    json: bytes
    csv_sha256: str
    json_sha256: str


def encode_segment(rows: list[Row], columns: list[dict], url_pattern: str) -> Encoded:
    """encode_rows(), hashed: all a segment's file work, and no database or storage, so that a
    second process can do it (releases.SegmentEncoder)."""
    csv_bytes, json_bytes = encode_rows(rows, columns, url_pattern)
    return Encoded(csv_bytes, json_bytes, sha256(csv_bytes), sha256(json_bytes))


def json_list(strings: list[str]) -> str:
    """json.dumps(strings, ensure_ascii=False) of a list of strings, written out: a JSON encoder
    is made for each call of json.dumps() or JSONEncoder.encode(), a third of the time of a
    row's themes or links."""
    return "[" + ", ".join(map(encode_basestring, strings)) + "]"


def csv_line(cells: list[str]) -> str:
    """One CSV record without its line end: byte for byte what csv.writer writes, in a third of
    the time for long answers (str.replace and `in` rather than a loop per character:
    tests/publishing/test_open_data_encoding.py checks it against csv.writer)."""
    if cells == [""]:
        return '""'  # a record of one empty cell: quoted, or it would be an empty line
    return ",".join([quoted(cell) for cell in cells])


def quoted(cell: str) -> str:
    """The cell as csv.writer writes it (QUOTE_MINIMAL, "\r\n" lines): in quotes, its quotes
    doubled, when it holds a `,`, `"`, CR or LF (each `in` spelled out: cheaper than a loop)."""
    if '"' in cell:
        return '"' + cell.replace('"', '""') + '"'
    if "," in cell or "\n" in cell or "\r" in cell:
        return '"' + cell + '"'
    return cell


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def etag(parts: list[str]) -> str:
    """A strong ETag from the segments' hashes: the same bytes, the same tag."""
    return '"' + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40] + '"'


def package_name(call: Call) -> str:
    """A Data Package name: lower case letters, digits and - . _ / only."""
    return re.sub(r"[^-a-z0-9._/]", "-", call.slug.lower())


def version(release: Release) -> str:
    """Semantic: the release's number, then how many times it was amended (a contribution
    taken down after publication)."""
    return f"{release.number}.0.{release.revision}"


def release_url(release: Release, name: str = "") -> str:
    if name:
        return absolute(reverse("release_file", args=[release.call.slug, release.number, name]))
    return absolute(reverse("release_page", args=[release.call.slug, release.number]))


def datapackage(release: Release) -> str:
    """The descriptor of a release: its version and creation time, licence, sources,
    attribution, and both resources with their Table Schema."""
    call = release.call
    columns = release.columns
    licence = {"name": call.licence_id, "path": call.licence_url, "title": call.licence_name}
    description = (
        f"Release {release.number} of the contributions to the call for evidence “{call.title}”: "
        "each contribution's answers and links as released, with its credit line as its "
        "contributor chose it."
    )
    if release.unnamed_count:
        people = "contributor" if release.unnamed_count == 1 else "contributors"
        description += f" {release.unnamed_count} {people} asked not to be named."
    csv_note = (
        " A formula sign (=, +, -, @) at the start of a cell, or after a semicolon, tab or line "
        "break inside it (even with spaces between), gets an apostrophe before the sign so that no "
        "spreadsheet runs it as a formula; the JSON holds the text as written."
    )
    credits_url = absolute(reverse("credits", args=[call.slug]))
    package = {
        "profile": "data-package",
        "id": release_url(release),
        "name": package_name(call),
        "title": f"{call.title}: release {release.number}",
        "description": description,
        "version": version(release),
        "created": release.published_at.astimezone(LONDON).isoformat(timespec="seconds"),
        "homepage": release_url(release),
        "licenses": [licence],
        "attribution": attribution(call),
        "sources": [
            {
                "title": f"Call for evidence: {call.title}",
                "path": absolute(reverse("start", args=[call.slug])),
            },
            {"title": "Credits", "path": credits_url},
        ],
        "contributors": [
            {
                "title": f"The contributors to “{call.title}”, as credited",
                "path": credits_url,
                "role": "author",
            }
        ],
        "resources": [
            {
                "name": "contributions",
                "title": "Contributions (CSV)",
                "description": "One row per contribution." + csv_note,
                "path": CSV_NAME,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "licenses": [licence],
                "schema": {
                    "fields": fields(columns, list_type="string"),
                    "primaryKey": "public_id",
                },
            },
            {
                "name": "contributions-json",
                "title": "Contributions (JSON)",
                "description": "The same rows as an array of objects; themes and links as lists.",
                "path": JSON_NAME,
                "profile": "tabular-data-resource",
                "format": "json",
                "mediatype": "application/json",
                "encoding": "utf-8",
                "licenses": [licence],
                "schema": {"fields": fields(columns, list_type="array"), "primaryKey": "public_id"},
            },
        ],
    }
    return json.dumps(package, ensure_ascii=False, indent=2) + "\n"


def file_size(release: Release, segments: list[ReleaseSegment], kind: str) -> int:
    if kind == "csv":
        return len(release.csv_header.encode()) + sum(s.csv_size for s in segments)
    body = sum(s.json_size for s in segments)
    return len(JSON_HEAD) + max(body - 1, 0) + len(JSON_TAIL)


def file_chunks(release: Release, segments: list[ReleaseSegment], kind: str) -> Iterator[bytes]:
    """A data file as built: its head, each segment's stored bytes in turn, its tail."""
    storage = release_storage()
    if kind == "csv":
        yield release.csv_header.encode()
    else:
        yield JSON_HEAD
    first = True
    for segment in segments:
        name = segment.csv_name if kind == "csv" else segment.json_name
        if not name:
            continue
        with storage.open(name, "rb") as stored:
            while chunk := stored.read(READ_CHUNK):
                if kind == "json" and first:
                    chunk = chunk[1:]  # the file's first row has no comma before it
                first = False
                yield chunk
    if kind == "json":
        yield JSON_TAIL

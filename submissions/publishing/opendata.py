"""The open data of a call: its included contributions as CSV and JSON, described by a
Frictionless Data Package.

Only what the contributor licensed is published: their answers, their links and their credit
line as they chose it. Never an email address, a role (unless a credit line holds it), files,
themes, review notes or the reference (the reference is what a contributor quotes to staff).
"""

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from ..common.site import absolute
from ..exports.columns import neutralise
from ..models import Call, Question, Submission
from .credits import CREDIT_COLUMNS, attribution, credit_list, credited

CSV_NAME = "contributions.csv"
JSON_NAME = "contributions.json"
CHUNK_ROWS = 500


def question_field(question: Question) -> str:
    return f"question_{question.position}"


def published(call: Call) -> QuerySet[Submission]:
    """The rows of the open data: included, and not withheld by a call manager."""
    return (
        Submission.objects.included(call)
        .filter(withheld_from_open_data=False)
        .only(*CREDIT_COLUMNS, "answers", "links")
        .order_by("submitted_at", "pk")
    )


def fields(questions: list[Question], *, links_type: str) -> list[dict]:
    """The Table Schema of a row: one list, read by the package, the CSV and the JSON."""
    return [
        {
            "name": "credit",
            "title": "Credit line",
            "type": "string",
            "description": "How the contributor chose to be credited; empty when they asked "
            "not to be named.",
        },
        *(
            {
                "name": question_field(q),
                "title": q.short_title,
                "type": "string",
                "description": q.text,
            }
            for q in questions
        ),
        {
            "name": "links",
            "title": "Links",
            "type": links_type,
            "description": "Links to examples or resources"
            + (", one per line." if links_type == "string" else "."),
        },
    ]


def rows(call: Call, questions: list[Question]) -> Iterator[dict]:
    for submission in published(call).iterator(chunk_size=CHUNK_ROWS):
        row: dict[str, object] = {"credit": submission.credit_line()}
        for q in questions:
            row[question_field(q)] = submission.answers.get(str(q.pk), "")
        row["links"] = list(submission.links)
        yield row


def csv_chunks(call: Call) -> Iterator[bytes]:
    """RFC 4180 with CRLF, UTF-8; every cell made safe for spreadsheets as in the staff export."""
    questions = list(call.questions.all())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([field["name"] for field in fields(questions, links_type="string")])
    yield _drain(buffer)
    for n, row in enumerate(rows(call, questions), start=1):
        row["links"] = "\n".join(row["links"])
        writer.writerow([neutralise(value) for value in row.values()])
        if n % CHUNK_ROWS == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def json_chunks(call: Call) -> Iterator[bytes]:
    """An array of row objects, streamed; links as an array of strings."""
    questions = list(call.questions.all())
    yield b"["
    for n, row in enumerate(rows(call, questions)):
        yield (",\n" if n else "\n").encode() + json.dumps(row, ensure_ascii=False).encode()
    yield b"\n]\n"


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data


def package_name(call: Call) -> str:
    """A Data Package name: lower case letters, digits and - . _ / only."""
    return re.sub(r"[^-a-z0-9._/]", "-", call.slug.lower())


def datapackage(call: Call, at: datetime | None = None) -> dict:
    """The descriptor: licence, sources, attribution, contributors and both resources."""
    questions = list(call.questions.all())
    credits = credit_list(credited(call).iterator(chunk_size=2000))
    licence = {"name": call.licence_id, "path": call.licence_url, "title": call.licence_name}
    contributors = [{"title": line, "role": "author"} for line in credits.lines]
    description = (
        f"The contributions included in the toolkit of the call for evidence “{call.title}”: "
        "each contributor's answers, links and credit line as they chose it."
    )
    if credits.unnamed:
        description += f" Also contributed: {credits.unnamed_phrase}."
    csv_note = (
        " A formula sign (=, +, -, @) at the start of a cell, or after a semicolon, tab or line "
        "break inside it (even with spaces between), has an apostrophe before it so that no "
        "spreadsheet runs it as a formula; the JSON holds the text as written."
    )
    return {
        "profile": "data-package",
        "name": package_name(call),
        "title": call.title,
        "description": description,
        "homepage": absolute(reverse("open_data", args=[call.slug])),
        "created": (at or timezone.now()).isoformat(timespec="seconds"),
        "licenses": [licence],
        "attribution": attribution(call),
        "sources": [
            {
                "title": f"Call for evidence: {call.title}",
                "path": absolute(reverse("start", args=[call.slug])),
            },
            {
                "title": "Credits",
                "path": absolute(reverse("credits", args=[call.slug])),
            },
        ],
        "contributors": contributors,
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
                "schema": {"fields": fields(questions, links_type="string")},
            },
            {
                "name": "contributions-json",
                "title": "Contributions (JSON)",
                "description": "The same rows as an array of objects; links as a list.",
                "path": JSON_NAME,
                "profile": "tabular-data-resource",
                "format": "json",
                "mediatype": "application/json",
                "encoding": "utf-8",
                "licenses": [licence],
                "schema": {"fields": fields(questions, links_type="array")},
            },
        ],
    }

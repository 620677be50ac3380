"""The CSV export of submissions: one format, made by COPY on PostgreSQL and by Python elsewhere.

The file is UTF-8 with a byte-order mark (so Excel reads it as UTF-8), RFC 4180 quoting and CRLF
line ends, one row per submitted submission, oldest first. Every column is one entry in
`export_columns()`: its header, its cell in Python and the same cell in SQL. Both paths read that
table and give byte-identical files; tests/test_export.py holds them to that.
"""

import csv
import io
import re
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from operator import attrgetter
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Prefetch, QuerySet
from django.urls import reverse

from .models import Attachment, Question, Submission, Theme

# OWASP's list for CSV injection, and the full-width forms that some spreadsheets also read as
# the start of a formula: a cell starting with one of these gets a leading apostrophe.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")  # noqa: RUF001
# A spreadsheet told to split at `;` (Excel's default in much of Europe) or tab starts a new cell
# there, and a new row at a line break, since quoting no longer lines up: a formula sign right
# after one of these gets an apostrophe too.
CELL_BREAKS = ";\t\r\n"
FORMULA_SIGNS = "=+@＝＋－＠-"  # noqa: RUF001  ('-' last: literal in a [class])
INNER_FORMULA_RE = re.compile(f"([{CELL_BREAKS}])([{FORMULA_SIGNS}])")
# The same, on a whole line of UTF-8 CSV as COPY sends it (see SubmissionCsv.copy_rows). Each sign
# is spelled out: a class of bytes would match the first byte of any other full-width character.
INNER_FORMULA_UTF8 = re.compile(
    b"(["
    + re.escape(CELL_BREAKS.encode())
    + b"])(?="
    + b"|".join(re.escape(sign.encode()) for sign in FORMULA_SIGNS)
    + b")"
)

BOM = "\ufeff".encode()
CHUNK_BYTES = 64 * 1024
PYTHON_CHUNK_ROWS = 2000


def neutralise(value: str) -> str:
    """The cell as text a spreadsheet shows, never runs: OWASP's apostrophe before a formula.

    At the start of the cell, and right after a `;`, tab or line break inside it.
    """
    if not value:
        return value
    inner = INNER_FORMULA_RE.sub(r"\1'\2", value)
    return "'" + inner if value[0] in FORMULA_TRIGGERS else inner


def local_iso(moment) -> str:
    """ISO 8601 in UK time with its UTC offset, to the second: 2018-03-06T23:59:00+00:00."""
    if moment is None:
        return ""
    # settings.TIME_ZONE, not the active time zone: the COPY path cannot know about the latter.
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Column:
    """One column of the file: its header, its cell in Python, and the same cell in SQL.

    `value` reads a Submission (call, themes and attachments prefetched). `sql` is an expression
    over `s` (the submission), `c` (its call) and what `join` adds; joins repeated by several
    columns are made once. Free text (`text`) is neutralised on both paths: in Python by
    neutralise(), in SQL at the start of the cell and then, on each whole line COPY sends, after
    the breaks inside it (copy_rows). An empty cell must be NULL in SQL: COPY writes '' as "",
    where Python's csv writes nothing.
    """

    header: str
    value: Callable[[Submission], str]
    sql: str
    text: bool = True
    join: str = ""

    def python_cell(self, submission: Submission) -> str:
        value = self.value(submission)
        return neutralise(value) if self.text else value

    def sql_cell(self) -> str:
        return sql_neutralise(self.sql) if self.text else self.sql


def answer_of(key: str) -> Callable[[Submission], str]:
    """The cell of one question's answer (a function per column: a lambda in a loop would
    read the last question)."""
    return lambda s: s.answers.get(key, "")


def export_columns(questions: list[tuple[Question, str]]) -> list[Column]:
    """Every column of the file, in order, with the questions (and their headers) in the middle."""
    before, after = attachment_url_parts()
    file_url = f"{sql_literal(before)} || a.id || {sql_literal(after)}"
    answers = ", ".join(f'"{q.pk:d}" text' for q, _ in questions)
    return [
        Column("Reference", attrgetter("reference"), "s.reference", text=False),
        Column("Call", lambda s: s.call.title, "c.title"),
        Column(
            "Submitted at",
            lambda s: local_iso(s.submitted_at),
            sql_local_iso("s.submitted_at"),
            text=False,
        ),
        Column(
            "Late",
            lambda s: "yes" if s.is_late else "no",
            "CASE WHEN s.is_late THEN 'yes' ELSE 'no' END",
            text=False,
        ),
        Column(
            "Review status",
            lambda s: s.get_review_status_display(),
            sql_choice_label("s.review_status", Submission.ReviewStatus.choices),
            text=False,
        ),
        Column("Name", attrgetter("name"), "s.name"),
        Column("Email", attrgetter("email"), "s.email"),
        Column("Role", attrgetter("role"), "s.role"),
        Column("Organisation", attrgetter("organisation"), "s.organisation"),
        Column("ORCID iD", attrgetter("orcid"), "s.orcid"),
        Column("Website", attrgetter("website"), "s.website"),
        Column(
            "Credit preference",
            lambda s: s.get_credit_preference_display(),
            sql_choice_label("s.credit_preference", Submission.Credit.choices),
            text=False,
        ),
        Column("Credit line", Submission.credit_line, sql_credit_line(), join=CO_CONTRIBUTORS),
        Column(
            "Co-contributors",
            lambda s: "\n".join(s.co_contributor_lines()),
            "co.cell",
            join=CO_CONTRIBUTORS,
        ),
        Column("Licence", attrgetter("consent_licence_id"), "s.consent_licence_id"),
        Column(
            "Consent given at",
            lambda s: local_iso(s.consent_given_at),
            sql_local_iso("s.consent_given_at"),
            text=False,
        ),
        # Short titles are typed by staff: a header cell can be a formula too.
        *(
            Column(
                neutralise(title),
                answer_of(str(q.pk)),
                f'answer."{q.pk:d}"',
                # jsonb_to_record reads the answers once per row, where ->> would decompress
                # them once per question.
                join=f"LEFT JOIN LATERAL jsonb_to_record(s.answers) AS answer({answers}) ON true",
            )
            for q, title in questions
        ),
        Column(
            "Links",
            lambda s: "\n".join(s.links),
            "links.cell",
            join="""LEFT JOIN LATERAL (
                SELECT string_agg(link.value, E'\\n' ORDER BY link.position) AS cell
                FROM jsonb_array_elements_text(s.links) WITH ORDINALITY AS link(value, position)
            ) links ON true""",
        ),
        Column(
            "Files",
            lambda s: "\n".join(
                f"{a.original_name} ({a.size} bytes) {before}{a.pk}{after}"
                for a in s.attachments.all()
            ),
            "files.cell",
            join=f"""LEFT JOIN LATERAL (
                SELECT string_agg(
                    a.original_name || ' (' || a.size || ' bytes) ' || {file_url},
                    E'\\n' ORDER BY a.uploaded_at, a.id
                ) AS cell
                FROM submissions_attachment a
                WHERE a.submission_id = s.id
            ) files ON true""",  # noqa: S608 (literals from sql_literal(), and integers)
        ),
        Column(
            "Themes",
            lambda s: "; ".join(theme.name for theme in s.themes.all()),
            "themes.cell",
            join="""LEFT JOIN LATERAL (
                SELECT string_agg(t.name, '; ' ORDER BY t.name) AS cell
                FROM submissions_submission_themes st
                JOIN submissions_theme t ON t.id = st.theme_id
                WHERE st.submission_id = s.id
            ) themes ON true""",
        ),
        Column("Reviewer notes", attrgetter("reviewer_notes"), "s.reviewer_notes"),
    ]


def exportable(queryset: QuerySet[Submission]) -> QuerySet[Submission]:
    """The submitted submissions among `queryset`, oldest first; drafts are never exported."""
    # Re-selecting by primary key sheds the caller's ordering, annotations and DISTINCT.
    return Submission.objects.filter(
        pk__in=queryset.values("pk"), state=Submission.State.SUBMITTED
    ).order_by("submitted_at", "pk")


def question_columns(submissions: QuerySet[Submission]) -> list[tuple[Question, str]]:
    """The questions of every call in the export, each with its column header.

    One call: the question's short title. Several calls: "call-slug: short title", the calls in
    slug order and each call's questions in their order on the form.
    """
    questions = list(
        Question.objects.filter(call__in=submissions.order_by().values("call_id"))
        .select_related("call")
        .order_by("call__slug", "position")
    )
    several_calls = len({q.call_id for q in questions}) > 1
    return [
        (q, f"{q.call.slug}: {q.short_title}" if several_calls else q.short_title)
        for q in questions
    ]


def attachment_url_parts() -> tuple[str, str]:
    """The staff download URL around an attachment's id: (before, after)."""
    marker = 987654321
    url = settings.SITE_URL.rstrip("/") + reverse("attachment_download", args=[marker])
    before, after = url.split(str(marker))
    return before, after


class SubmissionCsv:
    """The CSV file of the submitted submissions in `queryset`, as an iterator of byte chunks.

    The first chunk (byte-order mark and header) is ready before any row is read, so a download
    starts at once. `row_count` holds the number of rows written so far.
    """

    def __init__(self, queryset: QuerySet[Submission], *, use_copy: bool | None = None) -> None:
        self.submissions = exportable(queryset)
        self.use_copy = connection.vendor == "postgresql" if use_copy is None else use_copy
        self.row_count = 0

    def __iter__(self) -> Iterator[bytes]:
        columns = export_columns(question_columns(self.submissions))
        yield BOM + csv_line([column.header for column in columns])
        rows = self.copy_rows if self.use_copy else self.python_rows
        yield from rows(columns)

    def python_rows(self, columns: list[Column]) -> Iterator[bytes]:
        submissions = self.submissions.select_related("call").prefetch_related(
            Prefetch("themes", queryset=Theme.objects.order_by("name")),
            Prefetch("attachments", queryset=Attachment.objects.order_by("uploaded_at", "pk")),
        )
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        for s in submissions.iterator(chunk_size=PYTHON_CHUNK_ROWS):
            writer.writerow([column.python_cell(s) for column in columns])
            self.row_count += 1
            if buffer.tell() >= CHUNK_BYTES:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue().encode()

    def copy_rows(self, columns: list[Column]) -> Iterator[bytes]:
        sql, params = copy_statement(self.submissions, columns)
        chunk = bytearray()
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            # PostgreSQL's JIT compiles this wide statement for seconds (about 5 s of CPU at
            # 100,000 rows here) and wins back less; LOCAL keeps the setting to this export.
            cursor.execute("SET LOCAL jit = off")
            # The COPY runs on the psycopg cursor itself; log it as Django logs its own queries.
            logged = cursor.debug_sql(sql) if hasattr(cursor, "debug_sql") else nullcontext()
            with logged, cursor.cursor.copy(sql, params) as copy:
                # PostgreSQL sends each row as one message ending in LF (the protocol promises one
                # row per message); LFs inside quoted cells stay as they are, as in Python's csv.
                for row in copy:
                    if row[-1] != 10:
                        raise RuntimeError("COPY sent a message that is not one whole row")
                    # neutralise() after the breaks inside cells, here rather than in SQL: the
                    # regular expression costs Python about what it cost PostgreSQL, but runs on
                    # the other core while PostgreSQL makes the next rows. Only free text can hold
                    # a break, and no break meets a sign across two cells (a `,` or `"` between).
                    chunk += INNER_FORMULA_UTF8.sub(rb"\1'", bytes(row[:-1]))
                    chunk += b"\r\n"
                    self.row_count += 1
                    if len(chunk) >= CHUNK_BYTES:
                        yield bytes(chunk)
                        chunk.clear()
        if chunk:
            yield bytes(chunk)


def csv_line(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue().encode()


def sql_literal(value: str) -> str:
    """A PostgreSQL string literal, safe inside a statement that psycopg also formats."""
    return "'" + value.replace("'", "''").replace("%", "%%") + "'"


def sql_neutralise(expression: str) -> str:
    """SQL for neutralise() at the start of the cell, and NULL for empty text (COPY writes '' as
    ""). The apostrophes after breaks inside the cell go in on the whole line, in copy_rows."""
    triggers = ", ".join(f"chr({ord(c)})" for c in FORMULA_TRIGGERS)
    return (
        f"nullif(CASE WHEN left({expression}, 1) IN ({triggers}) "
        f"THEN '''' || {expression} ELSE {expression} END, '')"
    )


def sql_local_iso(column: str) -> str:
    """SQL for local_iso(): to the second in settings.TIME_ZONE, with the UTC offset."""
    local = f"({column} AT TIME ZONE {sql_literal(settings.TIME_ZONE)})"
    offset = f"({local} - ({column} AT TIME ZONE 'UTC'))"
    return (
        f"to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        f"|| CASE WHEN {offset} < interval '0' THEN '-' ELSE '+' END "
        f"|| to_char(greatest({offset}, -{offset}), 'HH24:MI')"
    )


def sql_choice_label(column: str, choices) -> str:
    """SQL for get_FOO_display(): the label of a choice, or the stored value if unknown."""
    whens = " ".join(
        f"WHEN {sql_literal(value)} THEN {sql_literal(str(label))}" for value, label in choices
    )
    return f"CASE {column} {whens} ELSE nullif({column}, '') END"


# co.cell is Submission.co_contributor_lines(), co.credit the co-contributors' part of
# Submission.credit_line().
CO_CONTRIBUTORS = """LEFT JOIN LATERAL (
    SELECT string_agg(
        (p.value ->> 'name') || coalesce(' (' || nullif(concat_ws(', ',
            nullif(p.value ->> 'organisation', ''),
            'ORCID iD ' || nullif(p.value ->> 'orcid', '')), '') || ')', ''),
        E'\\n' ORDER BY p.position
    ) AS cell,
    string_agg(
        nullif(concat_ws(', ', nullif(p.value ->> 'name', ''),
            nullif(p.value ->> 'organisation', '')), ''),
        '; ' ORDER BY p.position
    ) AS credit
    FROM jsonb_array_elements(s.co_contributors) WITH ORDINALITY AS p(value, position)
) co ON true"""


def sql_credit_line() -> str:
    """SQL for Submission.credit_line(): the contributor as chosen, then the co-contributors.

    A second wording of Submission.credit_line_for(), kept on purpose: the COPY path builds
    every cell inside PostgreSQL, so it cannot call Python. The byte-identical export test
    (tests/test_export.py, PostgreSQL) fails if the two ever differ.
    """
    credit = Submission.Credit
    return (
        f"CASE s.credit_preference "
        f"WHEN {sql_literal(credit.NAME_AND_ORGANISATION)} "
        f"THEN concat_ws('; ', nullif(concat_ws(', ', nullif(s.name, ''), "
        f"nullif(s.organisation, '')), ''), co.credit) "
        f"WHEN {sql_literal(credit.ORGANISATION_ONLY)} "
        f"THEN concat_ws('; ', nullif(s.organisation, ''), co.credit) END"
    )


def copy_statement(submissions: QuerySet[Submission], columns: list[Column]) -> tuple[str, list]:
    """COPY (SELECT ...) TO STDOUT giving exactly the rows python_rows() writes."""
    ids_sql, ids_params = submissions.order_by().values("pk").query.sql_with_params()
    joins = "\n".join(dict.fromkeys(column.join for column in columns if column.join))
    # Only literals from sql_literal(), integers and Django's own SQL (its params kept apart).
    sql = f"""
        COPY (
            SELECT {", ".join(column.sql_cell() for column in columns)}
            FROM submissions_submission s
            JOIN submissions_call c ON c.id = s.call_id
            {joins}
            WHERE s.id IN ({ids_sql})
            ORDER BY s.submitted_at, s.id
        ) TO STDOUT (FORMAT csv)
    """  # noqa: S608
    return sql, list(ids_params)

"""The CSV export of submissions: one format, made by COPY on PostgreSQL and by Python elsewhere.

The file is UTF-8 with a byte-order mark (so Excel reads it as UTF-8), RFC 4180 quoting and CRLF
line ends, one row per submitted submission, oldest first. Both paths give byte-identical files;
tests/test_export.py holds them to that.
"""

import csv
import io
from collections.abc import Iterator
from contextlib import nullcontext
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Prefetch, QuerySet
from django.urls import reverse

from .models import Attachment, Question, Submission, Theme

# OWASP's list for CSV injection: a cell starting with one of these is a formula to Excel or
# LibreOffice (or becomes one after a paste), so it gets a leading apostrophe.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")

COLUMNS_BEFORE_QUESTIONS = [
    "Reference",
    "Call",
    "Submitted at",
    "Late",
    "Review status",
    "Name",
    "Email",
    "Role",
    "Organisation",
    "ORCID iD",
    "Website",
    "Credit preference",
    "Credit line",
    "Co-contributors",
    "Licence",
    "Consent given at",
]
COLUMNS_AFTER_QUESTIONS = ["Links", "Files", "Themes", "Reviewer notes"]

BOM = "\ufeff".encode()
CHUNK_BYTES = 64 * 1024
PYTHON_CHUNK_ROWS = 2000


def neutralise(value: str) -> str:
    """The cell as text a spreadsheet shows, never runs: OWASP's leading apostrophe."""
    if value and value[0] in FORMULA_TRIGGERS:
        return "'" + value
    return value


def local_iso(moment) -> str:
    """ISO 8601 in UK time with its UTC offset, to the second: 2018-03-06T23:59:00+00:00."""
    if moment is None:
        return ""
    # settings.TIME_ZONE, not the active time zone: the COPY path cannot know about the latter.
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).isoformat(timespec="seconds")


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
        questions = question_columns(self.submissions)
        # Short titles are typed by staff: a header cell can be a formula too.
        header = COLUMNS_BEFORE_QUESTIONS + [neutralise(title) for _, title in questions]
        header += COLUMNS_AFTER_QUESTIONS
        yield BOM + csv_line(header)
        rows = self.copy_rows if self.use_copy else self.python_rows
        yield from rows([q for q, _ in questions])

    def python_rows(self, questions: list[Question]) -> Iterator[bytes]:
        before, after = attachment_url_parts()
        submissions = self.submissions.select_related("call").prefetch_related(
            Prefetch("themes", queryset=Theme.objects.order_by("name")),
            Prefetch("attachments", queryset=Attachment.objects.order_by("uploaded_at", "pk")),
        )
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        for s in submissions.iterator(chunk_size=PYTHON_CHUNK_ROWS):
            files = "\n".join(
                f"{a.original_name} ({a.size} bytes) {before}{a.pk}{after}"
                for a in s.attachments.all()
            )
            writer.writerow(
                [
                    s.reference,
                    neutralise(s.call.title),
                    local_iso(s.submitted_at),
                    "yes" if s.is_late else "no",
                    s.get_review_status_display(),
                    neutralise(s.name),
                    neutralise(s.email),
                    neutralise(s.role),
                    neutralise(s.organisation),
                    neutralise(s.orcid),
                    neutralise(s.website),
                    s.get_credit_preference_display(),
                    neutralise(s.credit_line()),
                    neutralise("\n".join(s.co_contributor_lines())),
                    neutralise(s.consent_licence_id),
                    local_iso(s.consent_given_at),
                    *(neutralise(s.answers.get(str(q.pk), "")) for q in questions),
                    neutralise("\n".join(s.links)),
                    neutralise(files),
                    neutralise("; ".join(theme.name for theme in s.themes.all())),
                    neutralise(s.reviewer_notes),
                ]
            )
            self.row_count += 1
            if buffer.tell() >= CHUNK_BYTES:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue().encode()

    def copy_rows(self, questions: list[Question]) -> Iterator[bytes]:
        sql, params = copy_statement(self.submissions, questions)
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
                    chunk += row[:-1]
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


def sql_cell(expression: str) -> str:
    """SQL for neutralise(): the apostrophe, and NULL for empty text (COPY writes '' as "")."""
    triggers = ", ".join(f"chr({ord(c)})" for c in FORMULA_TRIGGERS)
    return (
        f"CASE WHEN left({expression}, 1) IN ({triggers}) THEN '''' || {expression} "
        f"ELSE nullif({expression}, '') END"
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


def copy_statement(
    submissions: QuerySet[Submission], questions: list[Question]
) -> tuple[str, list]:
    """COPY (SELECT ...) TO STDOUT giving exactly the rows python_rows() writes."""
    ids_sql, ids_params = submissions.order_by().values("pk").query.sql_with_params()
    before, after = attachment_url_parts()
    credit = Submission.Credit
    # Submission.credit_line(): the contributor as chosen, then the co-contributors (co.credit).
    credit_line = (
        f"CASE s.credit_preference "
        f"WHEN {sql_literal(credit.NAME_AND_ORGANISATION)} "
        f"THEN concat_ws('; ', nullif(concat_ws(', ', nullif(s.name, ''), "
        f"nullif(s.organisation, '')), ''), co.credit) "
        f"WHEN {sql_literal(credit.ORGANISATION_ONLY)} "
        f"THEN concat_ws('; ', nullif(s.organisation, ''), co.credit) END"
    )
    columns = [
        "s.reference",
        sql_cell("c.title"),
        sql_local_iso("s.submitted_at"),
        "CASE WHEN s.is_late THEN 'yes' ELSE 'no' END",
        sql_choice_label("s.review_status", Submission.ReviewStatus.choices),
        sql_cell("s.name"),
        sql_cell("s.email"),
        sql_cell("s.role"),
        sql_cell("s.organisation"),
        sql_cell("s.orcid"),
        sql_cell("s.website"),
        sql_choice_label("s.credit_preference", Submission.Credit.choices),
        sql_cell(credit_line),
        sql_cell("co.cell"),
        sql_cell("s.consent_licence_id"),
        sql_local_iso("s.consent_given_at"),
        *(sql_cell(f'answer."{q.pk:d}"') for q in questions),
        sql_cell("links.cell"),
        sql_cell("files.cell"),
        sql_cell("themes.cell"),
        sql_cell("s.reviewer_notes"),
    ]
    # jsonb_to_record reads the answers once per row, where ->> would decompress them per question.
    answers_join = ""
    if questions:
        record_columns = ", ".join(f'"{q.pk:d}" text' for q in questions)
        answers_join = (
            f"LEFT JOIN LATERAL jsonb_to_record(s.answers) AS answer({record_columns}) ON true"
        )
    # Only literals from sql_literal(), integers and Django's own SQL (its params kept apart).
    sql = f"""
        COPY (
            SELECT {", ".join(columns)}
            FROM submissions_submission s
            JOIN submissions_call c ON c.id = s.call_id
            {answers_join}
            LEFT JOIN LATERAL (
                -- co_contributor_lines(), and the co-contributors' part of credit_line().
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
            ) co ON true
            LEFT JOIN LATERAL (
                SELECT string_agg(link.value, E'\\n' ORDER BY link.position) AS cell
                FROM jsonb_array_elements_text(s.links) WITH ORDINALITY AS link(value, position)
            ) links ON true
            LEFT JOIN LATERAL (
                SELECT string_agg(
                    a.original_name || ' (' || a.size || ' bytes) '
                        || {sql_literal(before)} || a.id || {sql_literal(after)},
                    E'\\n' ORDER BY a.uploaded_at, a.id
                ) AS cell
                FROM submissions_attachment a
                WHERE a.submission_id = s.id
            ) files ON true
            LEFT JOIN LATERAL (
                SELECT string_agg(t.name, '; ' ORDER BY t.name) AS cell
                FROM submissions_submission_themes st
                JOIN submissions_theme t ON t.id = st.theme_id
                WHERE st.submission_id = s.id
            ) themes ON true
            WHERE s.id IN ({ids_sql})
            ORDER BY s.submitted_at, s.id
        ) TO STDOUT (FORMAT csv)
    """  # noqa: S608
    return sql, list(ids_params)

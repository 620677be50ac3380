"""The CSV export of submissions: one format, made by COPY on PostgreSQL and by Python elsewhere.

The file is UTF-8 with a byte-order mark (so Excel reads it as UTF-8), RFC 4180 quoting and CRLF
line ends, one row per submitted submission, oldest first. Both paths read the column table in
columns.py and give byte-identical files; tests/exports/test_export.py holds them to that.
"""

import csv
import io
from collections.abc import Iterator
from contextlib import nullcontext

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection, transaction
from django.db.models import Prefetch, QuerySet
from django.db.models.sql.datastructures import BaseTable

from ..models import Attachment, Question, Submission, Theme
from .columns import INNER_FORMULA_UTF8, Column, export_columns

BOM = "\ufeff".encode()
CHUNK_BYTES = 64 * 1024
PYTHON_CHUNK_ROWS = 2000


def exportable(queryset: QuerySet[Submission]) -> QuerySet[Submission]:
    """The submitted submissions among `queryset`, oldest first; drafts are never exported.

    The caller's filters are kept as they are, not re-selected by id (`id IN (SELECT id ...)`):
    a semi-join of the table with itself is planned from row estimates, and with statistics
    from before a bulk load the planner chose a nested loop that made the export quadratic.
    """
    return (
        queryset.filter(state=Submission.State.SUBMITTED)
        .prefetch_related(None)
        .order_by("submitted_at", "pk")
    )


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


def copy_statement(submissions: QuerySet[Submission], columns: list[Column]) -> tuple[str, list]:
    """COPY (SELECT ...) TO STDOUT giving exactly the rows python_rows() writes.

    The queryset's own FROM and WHERE, with the submissions table named `s` as the columns'
    SQL expects: one scan of the table, filtered directly.
    """
    query = submissions.order_by().values("pk").query
    if query.distinct or query.combinator or query.is_sliced:
        raise ValueError(
            "An export filters submissions; it cannot take DISTINCT, UNION or a slice."
        )
    # Every alias renamed at once (Django relabels a join's reference to its parent only so),
    # the submissions table to `s`, and the FROM clause starting with it.
    base = Submission._meta.db_table
    query.change_aliases(
        {alias: "s" if alias == base else f"s_{n}" for n, alias in enumerate(query.alias_map)}
    )
    query.alias_map = dict(
        sorted(query.alias_map.items(), key=lambda item: not isinstance(item[1], BaseTable))
    )
    compiler = query.get_compiler(connection=connection)
    tables, from_params = compiler.get_from_clause()
    try:
        where, where_params = compiler.compile(query.where)
    except EmptyResultSet:
        where, where_params = "false", []
    except FullResultSet:
        where, where_params = "true", []
    joins = "\n".join(dict.fromkeys(column.join for column in columns if column.join))
    # Only literals from sql_literal(), integers and Django's own SQL (its params kept apart).
    sql = f"""
        COPY (
            SELECT {", ".join(column.sql_cell() for column in columns)}
            FROM {" ".join(tables)}
            JOIN submissions_call c ON c.id = s.call_id
            {joins}
            WHERE {where}
            ORDER BY s.submitted_at, s.id
        ) TO STDOUT (FORMAT csv)
    """  # noqa: S608
    return sql, [*from_params, *where_params]

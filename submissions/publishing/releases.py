"""Releases: a call manager publishes a call's public outputs as a numbered, dated snapshot;
this module builds one, says what the next one will change, and takes a contribution off every
release at once.

Publishing streams: the publishable rows are read in one ordered pass, SEGMENT_ROWS at a time,
and each slice becomes a `ReleaseSegment` (its CSV and JSON bytes, stored through Django's
storage API) and its `ReleaseEntry` rows, so memory stays flat however many contributions there
are. A data file is its segments end to end (opendata.file_chunks). Taking a contribution down
(a withdrawal request, an erasure, "withhold") deletes its entries and rewrites the one segment
of each release that held it, from the entries that remain, in the transaction that took it
down: every page and file is without it from that commit on, and the other rows keep their
bytes.

Both take the call's row lock, so a takedown never misses a release being published.
"""

import ctypes
import json
import secrets
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from multiprocessing import get_all_start_methods, get_context
from typing import cast

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    Model,
    OuterRef,
    Q,
    QuerySet,
    TextField,
)
from django.db.models.expressions import RawSQL
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone

from ..common.batches import batched
from ..common.wording import LONDON
from ..models import (
    Call,
    PublicChange,
    PublicContribution,
    Redaction,
    Release,
    ReleaseEntry,
    ReleaseSegment,
    Submission,
    Theme,
    new_public_ids,
    release_storage,
    withdrawal_requested,
)
from ..models.releases import RELEASES, delete_stored, person_name
from ..outbox.queue import queue_announcements
from . import opendata
from .credits import Credits, sort_key
from .redaction import by_part, public_answer, public_links

SEGMENT_ROWS = 1000
ID_BATCH = 5000
# Segments made in the publishing process before the rest go to other processes
# (SegmentEncoder), how many processes, and how many segments may wait for them.
PARALLEL_AFTER = 8
WORKERS = 2
AHEAD = 3
# ReleaseSegment rows inserted together (one INSERT each cost 1.4 s of round trips at 300).
SEGMENT_INSERT = 50


def latest_release(call: Call | int) -> Release | None:
    return Release.latest_of(call)


# How many named contributions a page other than the credits page (the outcome page) lists
# before it sends the reader on to the credits page: what it shows stays bounded.
CREDITS_SHOWN = 1000


@dataclass
class CreditedLine:
    """A credit line as a release shows it, with the public ids of its contributions (one
    person may have sent several): each links to its contribution's page."""

    line: str
    public_ids: list[str]


@dataclass
class ReleaseCredits:
    """The named credits of a release (the first `CREDITS_SHOWN` contributions, by name), how
    many more named ones the credits page lists, and how many asked not to be named."""

    release: Release | None
    lines: list[CreditedLine]
    more: int
    unnamed: int

    def __bool__(self) -> bool:
        return bool(self.lines or self.unnamed)

    @property
    def unnamed_phrase(self) -> str:
        return Credits([], self.unnamed).unnamed_phrase


def credited_lines(pairs: Iterable[tuple[str, str]]) -> list[CreditedLine]:
    """(credit line, public id) pairs, in order, grouped: each line once, with its ids."""
    lines: list[CreditedLine] = []
    for line, public_id in pairs:
        if lines and lines[-1].line == line:
            lines[-1].public_ids.append(public_id)
        else:
            lines.append(CreditedLine(line, [public_id]))
    return lines


def release_credits(call: Call | int, shown: int | None = None) -> ReleaseCredits:
    """The credits of the call's latest release, for any public page (the outcome page too):
    never the review status. Empty before the first release. See credits_of()."""
    return credits_of(latest_release(call), shown)


def credits_of(release: Release | None, shown: int | None = None) -> ReleaseCredits:
    """Each credit line of the release once, by name, with the public ids of its
    contributions: the first `shown` named contributions (the rest are counted, for the
    credits page; CREDITS_SHOWN unless told), and how many asked not to be named. A
    contribution taken down is gone from it at once (its entries are deleted). One query."""
    shown = CREDITS_SHOWN if shown is None else shown
    if release is None:
        return ReleaseCredits(None, [], 0, 0)
    pairs = list(
        ReleaseEntry.objects.filter(release=release, anonymous=False)
        .order_by("sort_key", "position")
        .values_list("credit_line", "contribution__public_id")[:shown]
    )
    named = release.contribution_count - release.unnamed_count
    return ReleaseCredits(
        release, credited_lines(pairs), max(named - len(pairs), 0), release.unnamed_count
    )


def answer_sql(question_id: int) -> RawSQL:
    """One answer of the submission row as text, read in the database.

    Not KeyTextTransform: Django takes a key of digits ("12") for an array index.
    """
    # The SQL holds only our own table's name; the key is a parameter.
    column = f'"{Submission._meta.db_table}"."answers"'
    if connection.vendor == "postgresql":
        sql, key = f"{column} ->> %s", str(question_id)
    else:
        sql, key = f"json_extract({column}, %s)", f'$."{question_id}"'
    return RawSQL(sql, [key], output_field=TextField())  # noqa: S611


def contents_sql(columns: list[dict]) -> str:
    """publishable_rows()' statement for a batch of submissions on PostgreSQL, by primary key
    (one array parameter): id, credit preference, name, organisation, co-contributors and
    links (JSON, as text), the themes' names (themes_sql()), then the answers to the release's
    columns, in their order, one column each.

    The answers' JSON is taken apart once per row, by jsonb_to_record: with `->>` once per
    answer, each decompressed the whole stored value again. Each answer is a column of plain
    text: as one array, PostgreSQL quoted and escaped every answer into the array's text and
    psycopg parsed it back, a third more time on both sides for the same text."""
    quote = connection.ops.quote_name
    table = quote(Submission._meta.db_table)
    keys = [quote(str(int(column["question"]))) for column in columns]
    answers = lateral = ""
    if keys:  # a call without questions has no answers to read (and no record to read them)
        answers = "".join(f", a.{key}" for key in keys)
        record = ", ".join(f"{key} text" for key in keys)
        lateral = f" LEFT JOIN LATERAL jsonb_to_record({table}.answers) AS a({record}) ON true"
    # Our own table's name, and the questions' ids (integers) as column names.
    return (
        f"SELECT {table}.id, {table}.credit_preference, {table}.name, {table}.organisation, "  # noqa: S608
        f"{table}.co_contributors, {table}.links, {themes_sql().sql}{answers} "
        f"FROM {table}{lateral} WHERE {table}.id = ANY(%s)"
    )


def from_json(text: str | None) -> list:
    """A JSON list column read as text: most are empty, and need no parser."""
    return [] if text is None or text == "[]" else json.loads(text)


def themes_by_submission(ids: list[int]) -> dict[int, list[str]]:
    through = Submission.themes.through
    pairs = (
        through.objects.filter(submission_id__in=ids)
        .order_by("theme__name")
        .values_list("submission_id", "theme__name")
    )
    themes: dict[int, list[str]] = {}
    for submission_id, name in pairs:
        themes.setdefault(submission_id, []).append(name)
    return themes


def redactions_by_submission(ids: list[int]) -> dict[int, list[Redaction]]:
    found: dict[int, list[Redaction]] = {}
    for redaction in Redaction.objects.filter(submission_id__in=ids).order_by("created_at", "pk"):
        found.setdefault(redaction.submission_id, []).append(redaction)
    return found


def uk_date(moment: datetime):
    return moment.astimezone(LONDON).date()


def prepared(
    columns: list[dict],
    redactions: list[Redaction],
    preference: str,
    name: str,
    organisation: str,
    co_contributors: list[dict],
    links: list[str],
    themes: list[str],
    *answers: str | None,
) -> tuple:
    """A publishable row's part of its file row and entry that needs no id: credit line, sort
    key, credited names, themes, public answers, public links. Made as the row is read (on
    the second thread, for a big release), so that the publishing thread only adds the ids."""
    credit = Submission.credit_line_for(preference, name, organisation, co_contributors)
    return (
        credit,
        sort_key(credit),
        Submission.credited_names_for(preference, name, organisation, co_contributors),
        themes,
        *public_text(columns, redactions, answers, links),
    )


def public_text(
    columns: list[dict], redactions: list[Redaction], answers: Sequence[str | None], links: list
) -> tuple[list[str], list[str]]:
    """The answers and links as released: with their redactions applied."""
    if not redactions:  # most contributions: the text as written
        return [answer or "" for answer in answers], list(links)
    grouped = by_part(redactions)
    return [
        public_answer(column["question"], answer or "", grouped)
        for column, answer in zip(columns, answers, strict=True)
    ], public_links(list(links), grouped)


def public_row(
    columns: list[dict],
    redactions: list[Redaction],
    *,
    public_id: str,
    first_release: int,
    first_release_date: date,
    credit: str,
    themes: list[str],
    answers: list[str | None],
    links: list[str],
) -> opendata.Row:
    public_answers, public = public_text(columns, redactions, answers, links)
    return opendata.Row(
        public_id=public_id,
        first_release=first_release,
        first_release_date=first_release_date,
        credit=credit,
        themes=themes,
        answers=public_answers,
        links=public,
    )


EMPTY_SEGMENT = {"rows": 0, "csv_name": "", "csv_size": 0, "csv_sha256": "",
                 "json_name": "", "json_size": 0, "json_sha256": ""}  # fmt: skip


def stored_columns(storage: Storage, stem: str, rows: int, encoded: opendata.Encoded) -> dict:
    """The ReleaseSegment columns of a segment of `rows` rows made by encode_segment(), its two
    files stored under `stem` (nothing stored for no rows). If the second cannot be stored, the
    first is deleted: a segment's files are stored both or neither."""
    if not rows:
        return dict(EMPTY_SEGMENT)
    names: list[str] = []
    try:
        for data, suffix in ((encoded.csv, "csv"), (encoded.json, "json")):
            names.append(storage.save(f"{stem}.{suffix}", ContentFile(data)))
    except BaseException:
        delete_stored(names, storage)
        raise
    return {
        "rows": rows,
        "csv_name": names[0],
        "csv_size": len(encoded.csv),
        "csv_sha256": encoded.csv_sha256,
        "json_name": names[1],
        "json_size": len(encoded.json),
        "json_sha256": encoded.json_sha256,
    }


@dataclass
class SegmentFiles:
    """Names segments' files and remembers each one stored, for the rollback."""

    release: Release
    written: list[str] = field(default_factory=list)

    def stem(self, index: int) -> str:
        return f"{self.release.call_id}/{self.release.number}/{index:06d}-{secrets.token_hex(8)}"

    def store(self, index: int, rows: list[opendata.Row], url_pattern: str) -> dict:
        """The ReleaseSegment columns of these rows' bytes, stored (or empty, for no rows)."""
        encoded = opendata.encode_segment(rows, self.release.columns, url_pattern)
        return self.save(index, len(rows), encoded)

    def save(self, index: int, rows: int, encoded: opendata.Encoded) -> dict:
        """The ReleaseSegment columns of a segment of `rows` rows made by encode_segment()."""
        return self.keep(stored_columns(release_storage(), self.stem(index), rows, encoded))

    def keep(self, columns: dict) -> dict:
        """Remember the files of a segment stored (here or by the second process)."""
        self.written += [name for name in (columns["csv_name"], columns["json_name"]) if name]
        return columns


# A file-making process's own storage (start_second_process): never an instance made before
# the fork, whose connections (an S3 client's) the first process may be using.
SECOND_STORAGE: list[Storage] = []
# glibc's mallopt() parameters (malloc.h).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3


def start_second_process() -> None:
    params = cast(dict, settings.STORAGES[RELEASES])  # each alias: a dict
    SECOND_STORAGE[:] = [storages.create_storage(params)]
    keep_freed_memory()


def keep_freed_memory() -> None:
    """In a file-making process (glibc only; elsewhere nothing): memory freed is kept for the
    next segment. Each segment makes a dozen strings of megabytes; by default glibc maps each
    afresh and hands it back when freed, and the kernel faults it in again page by page: a
    fifth of these processes' time. Their peak memory is what a segment needs, as before."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024)  # glibc's largest
    mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024)


def make_and_store(
    rows: list[opendata.Row], columns: list[dict], url_pattern: str, stem: str
) -> dict:
    """In a file-making process: a segment's bytes made and stored; only their names, sizes and
    hashes go back (sending 8 MB of bytes a segment back to be stored cost both processes more
    than storing them here)."""
    encoded = opendata.encode_segment(rows, columns, url_pattern)
    return stored_columns(SECOND_STORAGE[0], stem, len(rows), encoded)


class SegmentEncoder:
    """Makes and stores segments' files, handing back their ReleaseSegment columns in order.

    The first PARALLEL_AFTER segments are made here. A release with more goes on in WORKERS
    other processes (forked: they need no database, and each has a storage of its own), each
    making and storing one segment's CSV and JSON while this one reads the next rows and writes
    their entries. The files are the larger half of the work: in one process it was the longest
    chain, and with two, whichever core is free takes the next segment (a first release of
    300,000 in about 0.85 of the time). At most AHEAD segments wait for them, so memory stays
    flat however big the release. Every file stored, here or there, is in
    `files.written` by the time close() returns, for the caller to delete if publishing fails.
    """

    def __init__(self, columns: list[dict], url_pattern: str, files: SegmentFiles):
        self.columns = columns
        self.url_pattern = url_pattern
        self.files = files
        self.pool: ProcessPoolExecutor | None = None
        self.waiting: deque[tuple[int, Future]] = deque()

    def put(self, index: int, rows: list[opendata.Row]) -> list[tuple[int, dict]]:
        """Take a segment's rows; return the segments now stored (index, columns), in order."""
        if self.pool is None and index >= PARALLEL_AFTER and can_fork():
            self.pool = ProcessPoolExecutor(
                max_workers=WORKERS,
                mp_context=get_context("fork"),
                initializer=start_second_process,
            )
        if self.pool is None:
            encoded = opendata.encode_segment(rows, self.columns, self.url_pattern)
            return [(index, self.files.save(index, len(rows), encoded))]
        stem = self.files.stem(index)
        future = self.pool.submit(make_and_store, rows, self.columns, self.url_pattern, stem)
        self.waiting.append((index, future))
        made = []
        while len(self.waiting) > AHEAD or (self.waiting and self.waiting[0][1].done()):
            made.append(self.take())
        return made

    def finish(self) -> list[tuple[int, dict]]:
        """The segments still being made, once stored."""
        return [self.take() for _ in range(len(self.waiting))]

    def close(self) -> None:
        """Stop the file-making processes. Segments they stored that were never taken (publishing
        failed meanwhile) join files.written, to be deleted with the rest."""
        if self.pool is None:
            return
        for _, future in self.waiting:
            future.cancel()
        self.pool.shutdown(wait=True, cancel_futures=True)
        for _, future in self.waiting:
            if not future.cancelled() and future.exception() is None:
                self.files.keep(future.result())
        self.waiting.clear()

    def take(self) -> tuple[int, dict]:
        index, future = self.waiting.popleft()
        return index, self.files.keep(future.result())


def can_fork() -> bool:
    return "fork" in get_all_start_methods()


# --- Publishing -------------------------------------------------------------------------------


def publish_release(
    call: Call,
    *,
    number: int,
    by=None,
    notes: str = "",
    at: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> Release | None:
    """Publish release `number` of the call: None if that number is taken (a second press).

    One transaction: the release, its entries, its segments' rows and the contributors'
    announcement all commit together, or none of it does (and its stored files are deleted).
    `progress` is told how many contributions are written, after each segment.
    """
    files: SegmentFiles | None = None
    # A second connection may read a big release's rows ahead (read_ahead()) only when this
    # transaction is the outermost: nothing uncommitted, of an enclosing one, for it to miss.
    ahead = connection.vendor == "postgresql" and not connection.in_atomic_block
    try:
        with transaction.atomic():
            if ahead:
                check_references_now()
            # Serialises releases of one call, and takedowns (which wait for this one).
            locked = Call.objects.select_for_update().get(pk=call.pk)
            latest = latest_release(locked)
            if number != (latest.number if latest else 0) + 1:
                return None
            release = Release.objects.create(
                call=locked,
                number=number,
                published_at=at or timezone.now(),
                published_by=by,
                published_by_name=person_name(by),
                notes=notes,
                columns=opendata.release_columns(locked),
            )
            release.csv_header = opendata.csv_header(release.columns)
            files = SegmentFiles(release)
            finish(release, write_release(locked, release, files, progress, ahead))
            release.save()
            queue_announcements(release)
            analyse_release_tables()
    except BaseException:
        if files is not None:
            delete_stored(files.written)
        raise
    return release


def check_references_now() -> None:
    """Each row's foreign keys checked as it is written, not all at the commit (Django makes
    them deferrable, initially deferred): a new contribution's submission, 300,000 checks for
    a first release, which at the commit would run on one core with nothing beside them, and
    while the rows are written run beside the second process and the second connection. For
    this transaction only; publish_release calls it only as the outermost one."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def analyse_release_tables() -> None:
    """Fresh planner statistics for the tables a release fills (PostgreSQL), committed with it.

    With autovacuum off, or before it comes round, the credits page planned 300,000 new
    entries as a few and sorted them all for each page (0.9 s, docs/benchmarks.md), as a bulk
    load of submissions does (seed_demo ends with ANALYZE too).
    """
    if connection.vendor != "postgresql":
        return
    tables = [PublicContribution, ReleaseEntry, ReleaseSegment]
    names = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {names}")


def give_public_ids(call: Call, release: Release, batch: list[tuple]) -> tuple[list[tuple], int]:
    """publishable_rows()' batch with a public id for each submission without one (first
    released in this release, made as the batch is written rather than all before the first:
    the checks of their keys then run beside the files' making); how many were made."""
    new = [n for n, row in enumerate(batch) if row[1] is None]
    if not new:
        return batch, 0
    made = new_contributions(call, release, [batch[n][0] for n in new])
    first = (release.number, uk_date(release.published_at))
    batch = list(batch)
    for n, (contribution_id, public_id) in zip(new, made, strict=True):
        submission_id, _, _, _, _, *rest = batch[n]
        batch[n] = (submission_id, contribution_id, public_id, *first, *rest)
    return batch, len(new)


def new_contributions(call: Call, release: Release, ids: list[int]) -> list[tuple[int, str]]:
    """A PublicContribution of each of these submissions, in order: (its id, its public id),
    their ids in the order of the files (as the next release reads them). A random public id
    already taken (one in 31^12, but possible) makes the batch try again with new ones."""
    for _attempt in range(5):
        public_ids = new_public_ids(len(ids))
        if connection.vendor == "postgresql":
            made = insert_contributions(call, release, ids, public_ids)
            if made is not None:
                return made
            continue
        rows = [
            (call.pk, pk, public_id, release.pk)
            for pk, public_id in zip(ids, public_ids, strict=True)
        ]
        try:
            with transaction.atomic():  # a savepoint: a clash of random ids tries again
                return [
                    (contribution.pk, contribution.public_id)
                    for contribution in PublicContribution.objects.bulk_create(
                        PublicContribution(**dict(zip(CONTRIBUTION_COLUMNS, row, strict=True)))
                        for row in rows
                    )
                ]
        except IntegrityError:
            continue
    raise IntegrityError("Could not find free public ids after 5 tries")


def insert_contributions(
    call: Call, release: Release, ids: list[int], public_ids: list[str]
) -> list[tuple[int, str]] | None:
    """new_contributions() on PostgreSQL: one INSERT of the batch, in its order (so the table's
    sequence numbers them in the files' order), and no savepoint. None, with nothing left
    inserted, when a public id was taken: the batch is then made again with new ones, in order."""
    table = connection.ops.quote_name(PublicContribution._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(CONTRIBUTION_COLUMNS)}) "  # noqa: S608
            "SELECT %s, r.submission_id, r.public_id, %s FROM unnest(%s::bigint[], %s::text[])"
            " WITH ORDINALITY AS r(submission_id, public_id, n) ORDER BY r.n"
            " ON CONFLICT (public_id) DO NOTHING RETURNING id, submission_id",
            [call.pk, release.pk, ids, public_ids],
        )
        made = {submission_id: pk for pk, submission_id in cursor.fetchall()}
        if len(made) == len(ids):
            return [(made[pk], public_id) for pk, public_id in zip(ids, public_ids, strict=True)]
        cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s)", [list(made.values())])  # noqa: S608
    return None


CONTRIBUTION_COLUMNS = ["call_id", "submission_id", "public_id", "first_release_id"]


def insert_rows(
    model: type[Model], columns: list[str], rows: Sequence[tuple], json_columns: Sequence[int] = ()
) -> None:
    """Insert plain rows (values in the order of `columns`, attribute names) into the model's
    table: by COPY on PostgreSQL, a tenth of the time of the ORM's INSERTs; elsewhere by
    bulk_create. The values at `json_columns` are JSON fields' values (lists, dicts)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model._default_manager.bulk_create(objects)
        return
    meta = model._meta
    fields = {field.attname: field for field in meta.concrete_fields}
    names = ", ".join(connection.ops.quote_name(fields[c].column) for c in columns)
    table = connection.ops.quote_name(meta.db_table)
    # wrap_database_errors: psycopg's own errors as Django's (IntegrityError for a clash), as
    # for any statement through Django's cursor (the COPY goes to psycopg's cursor).
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            values = list(row)
            for n in json_columns:
                values[n] = json.dumps(values[n])
            copy.write_row(values)


def with_ids(model: type[Model], ids: list[int]) -> Q | RawSQL:
    """The model's rows with these primary keys. On PostgreSQL as one array parameter
    (`= ANY(%s)`): psycopg spends about 15 ms turning `IN` with a thousand placeholders into
    the statement it sends, for each batch."""
    if connection.vendor != "postgresql":
        return Q(pk__in=ids)
    quote, meta = connection.ops.quote_name, model._meta
    column = f"{quote(meta.db_table)}.{quote(meta.pk.column)}"
    return RawSQL(f"{column} = ANY(%s)", [ids], output_field=BooleanField())  # noqa: S611


def themes_sql() -> RawSQL:
    """A submission's theme names, by name, as an array, read in the database (PostgreSQL):
    one lookup by the through table's index per row, whatever the planner knows of its size."""
    through = Submission.themes.through._meta.db_table
    theme = Theme._meta.db_table
    submission = Submission._meta.db_table
    sql = (
        f'ARRAY(SELECT t."name" FROM "{theme}" t '  # noqa: S608  (our tables' names only)
        f'JOIN "{through}" st ON st."theme_id" = t."id" '
        f'WHERE st."submission_id" = "{submission}"."id" ORDER BY t."name")'
    )
    return RawSQL(sql, [], output_field=ArrayField(TextField()))  # noqa: S611


def publishable_rows(
    call: Call, columns: list[dict], redacted: set[int], ahead: bool = False
) -> Iterator[list[tuple]]:
    """The release's rows, SEGMENT_ROWS at a time, in the order of the files (the order of
    their public ids' making): (submission id, public contribution id, public id, first
    release's number and date, then prepared(): credit line, sort key, credited names, themes,
    public answers, public links). One not yet released has no public id yet (None for the
    four: see give_public_ids()). `redacted`: the call's submissions with a redaction.

    The order comes from one narrow query (ids and public ids, sorted in the database, read
    through a server-side cursor); each batch's rows then by primary key alone, with no join
    and no other condition, so no plan hangs on the planner's statistics (straight after a bulk
    load it has none), and the rows themselves are never sorted (at 300,000 a gigabyte written
    to disk and read back). It all runs in the transaction that holds the call's lock: a
    takedown of a row read here waits for it, then takes it off.

    With `ahead` (see read_ahead()), a big release's batches are read on a second
    connection, one batch ahead of the caller.
    """
    publishable = Submission.objects.publishable(call)
    firsts = {
        pk: (number, uk_date(at))
        for pk, number, at in Release.objects.filter(call=call).values_list(
            "pk", "number", "published_at"
        )
    }
    # Those released before first, by their public ids' making; then those new in this release
    # (give_public_ids() makes their ids in this order).
    order = (
        publishable.order_by(F("public__id").asc(nulls_last=True), "pk")
        .values_list("pk", "public__id", "public__public_id", "public__first_release_id")
        .iterator(chunk_size=SEGMENT_ROWS)
    )
    in_sql = connection.vendor == "postgresql"
    sql = contents_sql(columns) if in_sql else ""
    answers = (
        {} if in_sql else {f"answer_{n}": answer_sql(c["question"]) for n, c in enumerate(columns)}
    )

    def contents(batch: list[tuple]) -> dict[int, tuple]:
        """Each submission's credit columns, links, themes and answers, by id."""
        ids = [row[0] for row in batch]
        # By primary key alone: with the publishable conditions too, a planner without
        # statistics read every included row of the call by their index, for each batch.
        if in_sql:
            with connection.cursor() as cursor:
                cursor.execute(sql, [ids])
                found = {
                    pk: (preference, name, organisation, from_json(co), from_json(links), *rest)
                    for pk, preference, name, organisation, co, links, *rest in cursor.fetchall()
                }
        else:
            themes = themes_by_submission(ids)
            found = {
                row[0]: (*row[1:6], themes.get(row[0], []), *row[6:])
                for row in Submission.objects.filter(pk__in=ids)
                .annotate(**answers)
                .order_by()
                .values_list(
                    "pk",
                    "credit_preference",
                    "name",
                    "organisation",
                    "co_contributors",
                    "links",
                    *answers,
                )
            }
        wanted = [pk for pk in found if pk in redacted]
        redactions = redactions_by_submission(wanted) if wanted else {}
        return {pk: prepared(columns, redactions.get(pk, []), *row) for pk, row in found.items()}

    batches = batched(order, SEGMENT_ROWS)
    for batch, found in read_ahead(batches, contents) if ahead else read_here(batches, contents):
        yield [
            (pk, contribution_id, public_id, *firsts.get(first_id, (None, None)), *found[pk])
            for pk, contribution_id, public_id, first_id in batch
            if pk in found
        ]


def read_here(batches: Iterable[list], read: Callable[[list], dict]) -> Iterator[tuple[list, dict]]:
    for batch in batches:
        yield batch, read(batch)


def read_ahead(
    batches: Iterable[list], read: Callable[[list], dict]
) -> Iterator[tuple[list, dict]]:
    """(batch, read(batch)) for each batch, as read_here(); from the PARALLEL_AFTER-th on, a
    second thread reads the next batch on a connection of its own while the caller works on
    this one (PostgreSQL makes those rows on one core while Python makes files on the other).

    Only for a publishing transaction that is the connection's outermost (publish_release sees
    to it): the second connection sees what is committed, and the rows read are submissions,
    which publishing does not write; a row changed since the order was read is read as now, as
    on one connection at READ COMMITTED.
    """
    pool: ThreadPoolExecutor | None = None
    pending: tuple[list, Future] | None = None
    try:
        for index, batch in enumerate(batches):
            if index < PARALLEL_AFTER:
                yield batch, read(batch)
                continue
            pool = pool or ThreadPoolExecutor(max_workers=1, thread_name_prefix="release-read")
            future = pool.submit(read, batch)
            if pending is not None:
                yield pending[0], pending[1].result()
            pending = (batch, future)
        if pending is not None:
            yield pending[0], pending[1].result()
    finally:
        if pool is not None:
            pool.submit(connections.close_all)  # the second connection, in its own thread
            pool.shutdown(wait=True, cancel_futures=False)


ENTRY_COLUMNS = [
    "release_id",
    "contribution_id",
    "position",
    "segment",
    "credit_line",
    "anonymous",
    "sort_key",
    "authors",
    "themes",
]
ENTRY_JSON = [ENTRY_COLUMNS.index("authors"), ENTRY_COLUMNS.index("themes")]
ENTRY_ANONYMOUS = ENTRY_COLUMNS.index("anonymous")


def write_release(
    call: Call,
    release: Release,
    files: SegmentFiles,
    progress: Callable[[int], None] | None = None,
    ahead: bool = False,
) -> tuple[int, int]:
    """Each segment's public ids (release.added_count: how many new), files, entries and row;
    how many contributions, and how many unnamed. `ahead`: see publishable_rows()."""
    encoder = SegmentEncoder(release.columns, opendata.page_url_pattern(call), files)
    redacted = redacted_ids(call)
    position = unnamed = written = 0
    segments: list[ReleaseSegment] = []  # inserted SEGMENT_INSERT at a time

    def save(made: list[tuple[int, dict]], last: bool = False) -> None:
        nonlocal written
        for index, columns in made:
            segments.append(ReleaseSegment(release=release, index=index, **columns))
            written += columns["rows"]
            if progress is not None:
                progress(written)
        if len(segments) >= SEGMENT_INSERT or last:
            ReleaseSegment.objects.bulk_create(segments)
            segments.clear()

    release.added_count = 0
    try:
        for index, read in enumerate(publishable_rows(call, release.columns, redacted, ahead)):
            batch, added = give_public_ids(call, release, read)
            release.added_count += added
            rows, entries = segment_rows(release, index, position, batch)
            insert_rows(ReleaseEntry, ENTRY_COLUMNS, entries, ENTRY_JSON)
            position += len(entries)
            unnamed += sum(1 for entry in entries if entry[ENTRY_ANONYMOUS])
            save(encoder.put(index, rows))
        save(encoder.finish(), last=True)
    finally:
        encoder.close()
    return position, unnamed


def segment_rows(
    release: Release, index: int, position: int, batch: list[tuple]
) -> tuple[list[opendata.Row], list[tuple]]:
    """A segment's rows for its files, and its ReleaseEntry rows (in ENTRY_COLUMNS' order),
    from publishable_rows()' batch with its ids (give_public_ids()); its entries' positions
    start at `position`."""
    rows: list[opendata.Row] = []
    entries: list[tuple] = []
    for (
        _submission_id,
        contribution_id,
        public_id,
        first_number,
        first_date,
        credit,
        key,
        authors,
        themes,
        answers,
        links,
    ) in batch:
        rows.append(
            opendata.Row(
                public_id=public_id,
                first_release=first_number,
                first_release_date=first_date,
                credit=credit,
                themes=themes,
                answers=answers,
                links=links,
            )
        )
        entries.append(
            (
                release.pk,
                contribution_id,
                position + len(entries),
                index,
                credit,
                not credit,
                key,
                authors,
                themes,
            )
        )
    return rows, entries


def redacted_ids(call: Call) -> set[int]:
    """The call's submissions with a redaction: a few, looked up once rather than per batch."""
    return set(
        Redaction.objects.filter(submission__call=call)
        .order_by()
        .values_list("submission_id", flat=True)
        .distinct()
    )


def finish(release: Release, counts: tuple[int, int] | None = None) -> None:
    """The release's counts (counted, unless known), its files' sizes and ETags, and its
    package, from its rows."""
    if counts is None:
        entries = ReleaseEntry.objects.filter(release=release)
        counts = entries.count(), entries.filter(anonymous=True).count()
    release.contribution_count, release.unnamed_count = counts
    segments = list(release.segments.order_by("index"))
    release.csv_size = opendata.file_size(release, segments, "csv")
    release.json_size = opendata.file_size(release, segments, "json")
    header_hash = opendata.sha256(release.csv_header.encode())
    release.csv_etag = opendata.etag([header_hash, *(s.csv_sha256 for s in segments)])
    release.json_etag = opendata.etag([s.json_sha256 for s in segments])
    release.package = opendata.datapackage(release)


# --- Taking a contribution down ----------------------------------------------------------------


def take_down(submission: Submission | int) -> int:
    """Take a contribution off every release at once, in the caller's transaction.

    For a withdrawal request, an erasure or "withhold": its entries go, and the segment of
    each release that held it is rewritten from the entries that remain. Returns how many
    releases were amended.
    """
    submission_id = submission if isinstance(submission, int) else submission.pk
    written: list[str] = []
    try:
        with transaction.atomic():
            call_id = (
                Submission.objects.filter(pk=submission_id)
                .values_list("call_id", flat=True)
                .first()
            )
            if call_id is None:
                return 0
            # Waits for a release being published: it may hold this contribution.
            list(Call.objects.select_for_update().filter(pk=call_id).values_list("pk"))
            entries = ReleaseEntry.objects.filter(contribution__submission_id=submission_id)
            affected = sorted(set(entries.values_list("release_id", "segment")))
            if not affected:
                return 0
            entries.delete()
            releases = Release.objects.select_related("call").in_bulk({r for r, _ in affected})
            for release_id, index in affected:
                files = SegmentFiles(releases[release_id], written)
                rebuild_segment(releases[release_id], index, files)
            at = timezone.now()
            for release in releases.values():
                release.revision += 1
                release.amended_at = at
                finish(release)
                release.save()
    except BaseException:
        delete_stored(written)
        raise
    return len(affected)


@receiver(pre_delete, sender=Submission)
def take_down_before_erasing(sender, instance: Submission, **kwargs) -> None:
    """An erasure, by any path (the admin's "Delete", a queryset's delete()), in its transaction."""
    take_down(instance.pk)


@receiver(withdrawal_requested, sender=Submission)
def take_down_when_withdrawn(sender, submission: Submission, **kwargs) -> None:
    """A withdrawal request, by any path (the status page, the shell), in its transaction: the
    first time only, as Submission.request_withdrawal() sends it."""
    take_down(submission.pk)


def rebuild_segment(release: Release, index: int, files: SegmentFiles) -> None:
    """Rewrite one segment from its remaining entries: the same bytes for each row as before."""
    columns = release.columns
    answers = {f"answer_{n}": answer_sql(c["question"]) for n, c in enumerate(columns)}
    found = (
        ReleaseEntry.objects.filter(release=release, segment=index)
        .annotate(**answers)
        .order_by("position")
        .values_list(
            "contribution__submission_id",
            "contribution__public_id",
            "contribution__first_release__number",
            "contribution__first_release__published_at",
            "credit_line",
            "themes",
            "contribution__submission__links",
            *answers,
        )
    )
    batch = list(found)
    redactions = redactions_by_submission([row[0] for row in batch])
    rows = [
        public_row(
            columns,
            redactions.get(submission_id, []),
            public_id=public_id,
            first_release=first_number,
            first_release_date=uk_date(first_at),
            credit=credit,
            themes=themes,
            answers=row_answers,
            links=links or [],
        )
        for (
            submission_id,
            public_id,
            first_number,
            first_at,
            credit,
            themes,
            links,
            *row_answers,
        ) in batch
    ]
    segment = ReleaseSegment.objects.select_for_update().get(release=release, index=index)
    old = [name for name in (segment.csv_name, segment.json_name) if name]
    columns_now = files.store(index, rows, opendata.page_url_pattern(release.call))
    for name, value in columns_now.items():
        setattr(segment, name, value)
    segment.save(update_fields=list(columns_now))
    transaction.on_commit(lambda: delete_stored(old), robust=True)


# --- What the next release will change -------------------------------------------------------


@dataclass
class Change:
    submission_id: int | None
    reference: str
    credit_line: str
    what: str = ""


@dataclass
class Changes:
    latest: Release | None
    added: list[Change]
    changed: list[Change]
    removed: list[Change]
    added_count: int
    changed_count: int
    removed_count: int

    def __bool__(self) -> bool:
        return bool(self.added_count or self.changed_count or self.removed_count)


# A change is compared with the latest release if it was marked since this long before the
# release was stamped: a write whose transaction was still open when publishing began may not be
# in the release (its mark's time is when it was written, not when it committed).
MARK_MARGIN = timedelta(minutes=10)


def pending_changes(call: Call, sample: int = 100) -> Changes:
    """What publishing now would add, change and remove against the latest release.

    "Changed": a credit line, its credited names or its themes differ. The text cannot: it is
    fixed while released (a redaction needs the contribution withheld first).

    On PostgreSQL only the submissions marked since the latest release (models.PublicChange,
    kept by triggers) are compared: a few, where comparing all 300,000 took seconds. Elsewhere,
    and before a first release, everything is.
    """
    latest = latest_release(call)
    if latest is None or connection.vendor != "postgresql":
        return all_changes(call, latest, sample)
    marked = list(
        PublicChange.objects.filter(changed_at__gte=latest.published_at - MARK_MARGIN)
        .order_by()
        .values_list("submission_id", flat=True)
    )
    return marked_changes(call, latest, marked, sample)


def credit_change(
    old_credit: str, old_authors: list, old_themes: list, now: tuple, themes: list[str]
) -> str:
    """What changed of a kept contribution ("" for nothing): now is its current credit columns
    (preference, name, organisation, co-contributors)."""
    what = []
    if (
        Submission.credit_line_for(*now) != old_credit
        or Submission.credited_names_for(*now) != old_authors
    ):
        what.append(f"credit line, was “{old_credit or 'not named'}”")
    if themes != old_themes:
        what.append("themes")
    return ", ".join(what)


CREDIT_COLUMNS = ["credit_preference", "name", "organisation", "co_contributors"]


def marked_changes(call: Call, latest: Release, marked: list[int], sample: int) -> Changes:
    """pending_changes() among these submissions only (ids of any call; PostgreSQL).

    Each batch is read by primary key alone, whether it is publishable worked out from the row
    itself and its themes looked up for each row by index: with the call's conditions in the
    WHERE clause (or an EXISTS), a planner without statistics read every included row of the
    call by their index instead.
    """
    publishable = ExpressionWrapper(
        Submission.objects.publishable_q(call), output_field=BooleanField()
    )
    now: dict[int, tuple] = {}  # submission id: (submitted_at, reference, credit columns, themes)
    in_latest: dict[int, tuple] = {}  # submission id: (position, credit line, authors, themes)
    for ids in batched(marked, ID_BATCH):
        for pk, is_publishable, *row in (
            Submission.objects.filter(with_ids(Submission, ids))
            .annotate(is_publishable=publishable, theme_names=themes_sql())
            .order_by()
            .values_list(
                "pk", "is_publishable", "submitted_at", "reference", *CREDIT_COLUMNS, "theme_names"
            )
        ):
            if is_publishable:
                now[pk] = tuple(row)
        for submission_id, *entry in (
            ReleaseEntry.objects.filter(release=latest, contribution__submission_id__in=ids)
            .order_by()
            .values_list(
                "contribution__submission_id", "position", "credit_line", "authors", "themes"
            )
        ):
            in_latest[submission_id] = tuple(entry)
    # Added: in the order of their submission, as all_changes() lists them.
    added_ids = sorted(now.keys() - in_latest.keys(), key=lambda pk: (now[pk][0], pk))
    added = [
        Change(pk, now[pk][1], Submission.credit_line_for(*now[pk][2:6]))
        for pk in added_ids[:sample]
    ]
    # Removed and changed: in the order of the release's files.
    removed_ids = sorted(in_latest.keys() - now.keys(), key=lambda pk: in_latest[pk][0])
    references = dict(
        Submission.objects.filter(pk__in=removed_ids[:sample]).values_list("pk", "reference")
    )
    removed = [
        Change(pk, references.get(pk) or "(erased)", in_latest[pk][1])
        for pk in removed_ids[:sample]
    ]
    changed: list[Change] = []
    changed_count = 0
    for pk in sorted(in_latest.keys() & now.keys(), key=lambda pk: in_latest[pk][0]):
        _, credit, authors, old_themes = in_latest[pk]
        _, reference, *columns, themes = now[pk]
        what = credit_change(credit, authors, old_themes, tuple(columns), list(themes))
        if what:
            changed_count += 1
            if len(changed) < sample:
                changed.append(Change(pk, reference, Submission.credit_line_for(*columns), what))
    return Changes(
        latest=latest,
        added=added,
        changed=changed,
        removed=removed,
        added_count=len(added_ids),
        changed_count=changed_count,
        removed_count=len(removed_ids),
    )


def all_changes(call: Call, latest: Release | None, sample: int) -> Changes:
    """pending_changes() by comparing every publishable submission and every entry."""
    publishable = Submission.objects.publishable(call)
    entries: QuerySet[ReleaseEntry] = ReleaseEntry.objects.filter(release=latest)
    if latest is None:
        entries = entries.none()
    added_rows = publishable.exclude(
        Exists(entries.filter(contribution__submission_id=OuterRef("pk")))
    ).order_by("submitted_at", "pk")
    added = [
        Change(pk, reference, Submission.credit_line_for(pref, name, org, co))
        for pk, reference, pref, name, org, co in added_rows.values_list(
            "pk", "reference", *CREDIT_COLUMNS
        )[:sample]
    ]
    # Correlated EXISTS, never NOT IN (a subquery beyond work_mem made NOT IN quadratic): the
    # same plan whatever the planner's statistics say.
    still_publishable = Exists(publishable.filter(pk=OuterRef("contribution__submission_id")))
    removed_rows = entries.exclude(still_publishable).order_by("position")
    removed = [
        Change(pk, reference or "(erased)", credit)
        for pk, reference, credit in removed_rows.values_list(
            "contribution__submission_id", "contribution__submission__reference", "credit_line"
        )[:sample]
    ]
    changed: list[Change] = []
    changed_count = 0
    kept = entries.filter(still_publishable).order_by("position")
    rows = kept.values_list(
        "contribution__submission_id",
        "contribution__submission__reference",
        "credit_line",
        "authors",
        "themes",
        *(f"contribution__submission__{c}" for c in CREDIT_COLUMNS),
    ).iterator(chunk_size=SEGMENT_ROWS)
    for batch in batched(rows, SEGMENT_ROWS):
        themes = themes_by_submission([row[0] for row in batch])
        for pk, reference, credit, authors, old_themes, *columns in batch:
            what = credit_change(credit, authors, old_themes, tuple(columns), themes.get(pk, []))
            if what:
                changed_count += 1
                if len(changed) < sample:
                    changed.append(
                        Change(pk, reference, Submission.credit_line_for(*columns), what)
                    )
    return Changes(
        latest=latest,
        added=added,
        changed=changed,
        removed=removed,
        added_count=added_rows.count(),
        changed_count=changed_count,
        removed_count=removed_rows.count(),
    )

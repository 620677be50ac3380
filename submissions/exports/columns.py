"""The staff CSV's columns: one table (`export_columns()`) of each column's header, its cell in
Python and the same cell in SQL, and the formula safety every cell gets (`neutralise()`).

writer.py makes the file from this table, by COPY on PostgreSQL and in Python elsewhere.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter
from typing import cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from ..common.site import absolute
from ..models import Question, Submission

# OWASP's list for CSV injection, and the full-width forms that some spreadsheets also read as
# the start of a formula: a cell starting with one of these gets a leading apostrophe.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")  # noqa: RUF001
# A spreadsheet told to split at `;` (Excel's default in much of Europe) or tab starts a new cell
# there, and a new row at a line break, since quoting no longer lines up: a formula sign right
# after one of these gets an apostrophe too.
CELL_BREAKS = ";\t\r\n"
FORMULA_SIGNS = "=+@＝＋－＠-"  # noqa: RUF001  ('-' last: literal in a [class])
# ...and so does a sign after a run of spaces there, or at the start of the cell: with "Trim
# spaces" on, LibreOffice reads "x; =1+3" as the cells "x" and "=1+3". Every character Python
# calls a space (str.isspace(): tab, line breaks, no-break, em, ideographic and the others),
# written out; tests/exports/test_export.py checks the list against str.isspace().
CELL_SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
LEADING_FORMULA_RE = re.compile(f"[{re.escape(CELL_SPACES)}]+[{FORMULA_SIGNS}]")
INNER_FORMULA_RE = re.compile(
    f"([{re.escape(CELL_BREAKS)}][{re.escape(CELL_SPACES)}]*)([{FORMULA_SIGNS}])"
)


def _utf8_any(chars: str) -> bytes:
    """A bytes pattern for any one of these characters in UTF-8, each spelled out: a class of
    bytes would match the first byte of any other character that starts like one of these."""
    return b"(?:" + b"|".join(re.escape(c.encode()) for c in chars) + b")"


# INNER_FORMULA_RE on a whole line of UTF-8 CSV as COPY sends it (see SubmissionCsv.copy_rows):
# the break and its spaces, then the apostrophe goes in before the sign.
INNER_FORMULA_UTF8 = re.compile(
    b"(["
    + re.escape(CELL_BREAKS.encode())
    + b"]"
    + _utf8_any(CELL_SPACES)
    + b"*)(?="
    + _utf8_any(FORMULA_SIGNS)
    + b")"
)


def neutralise(value: str) -> str:
    """The cell as text a spreadsheet shows, never runs: OWASP's apostrophe before a formula.

    At the start of the cell (also when spaces come before the sign), and right before a sign
    that follows a `;`, tab or line break inside it, with or without spaces between.
    """
    if not value:
        return value
    # The expression only where it will match: most cells have no formula sign after a break.
    inner = neutralise_breaks(value) if has_inner_formula(value) else value
    return "'" + inner if starts_formula(value) else inner


def starts_formula(value: str) -> bool:
    """Whether the cell needs its leading apostrophe: the first half of neutralise()."""
    return bool(value) and (value[0] in FORMULA_TRIGGERS or bool(LEADING_FORMULA_RE.match(value)))


# INNER_FORMULA_RE one break at a time, without the sign: each begins with its one character,
# which the regular expression engine finds by a quick scan rather than by trying a class of
# characters at every one (a third of the time over a release's segment).
BREAK_FORMULA_RES = {
    brk: re.compile(f"({re.escape(brk)}[{re.escape(CELL_SPACES)}]*)(?=[{FORMULA_SIGNS}])")
    for brk in CELL_BREAKS
}


def neutralise_breaks(text: str, breaks: str = CELL_BREAKS) -> str:
    """The other half: an apostrophe before each formula sign after a break (and any spaces).

    Also right for many cells at once, as written into a CSV file (the open data's segments):
    a break never meets a sign across two cells, as a `,` or `"` or the next row's public id
    comes between.

    The same text as INNER_FORMULA_RE.sub(r"\1'\2", text) (tests/exports/test_export.py):
    a sign gets its apostrophe when a break and only spaces come before it, whichever break,
    so the breaks can be taken one after the other; and an apostrophe put in by one never makes
    or spoils another's match, as it is neither a space nor a sign. Each match is split out
    rather than substituted: no Python call per match. A break the text does not hold costs a
    quick `in` (memchr) rather than a pass of the expression; `breaks` may leave out one the
    caller knows comes before no sign (a CSV's own line ends, before a public id)."""
    for brk in breaks:
        if brk not in text:
            continue
        parts = BREAK_FORMULA_RES[brk].split(text)
        if len(parts) > 1:
            parts[1::2] = [run + "'" for run in parts[1::2]]
            text = "".join(parts)
    return text


def has_inner_formula(value: str) -> bool:
    """Whether INNER_FORMULA_RE matches: a formula sign after a break and any spaces. The same
    answer as the regular expression's, from the few breaks (found by str.find) rather than by
    trying the expression at every character of a long answer: a tenth of the time."""
    if not any(sign in value for sign in FORMULA_SIGNS):
        return False
    end = len(value)
    for brk in CELL_BREAKS:
        at = value.find(brk)
        while at != -1:
            after = at + 1
            while after < end and value[after] in CELL_SPACES:
                after += 1
            if after < end and value[after] in FORMULA_SIGNS:
                return True
            at = value.find(brk, at + 1)
    return False


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
        # A contributor's request on their status page: the submission is to be erased, and
        # whoever reads the file must not quote or credit it meanwhile.
        Column(
            "Withdrawal requested at",
            lambda s: local_iso(s.withdrawal_requested_at),
            sql_local_iso("s.withdrawal_requested_at"),
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
            # Only for a submission with links: an aggregate in order costs PostgreSQL a sort
            # set up on every row, even for none (OFFSET 0 keeps it to one run per row).
            join="""LEFT JOIN LATERAL (
                SELECT (
                    SELECT string_agg(link.value, E'\\n' ORDER BY link.position)
                    FROM jsonb_array_elements_text(s.links) WITH ORDINALITY AS link(value, position)
                ) AS cell
                WHERE s.links <> '[]'::jsonb OFFSET 0
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


def attachment_url_parts() -> tuple[str, str]:
    """The staff download URL around an attachment's id: (before, after)."""
    marker = 987654321
    url = absolute(reverse("attachment_download", args=[marker]))
    before, after = url.split(str(marker))
    return before, after


def sql_literal(value: str) -> str:
    """A PostgreSQL string literal, safe inside a statement that psycopg also formats."""
    return "'" + value.replace("'", "''").replace("%", "%%") + "'"


def sql_neutralise(expression: str) -> str:
    """SQL for neutralise() at the start of the cell, and NULL for empty text (COPY writes '' as
    ""). The apostrophes after breaks inside the cell go in on the whole line, in copy_rows."""
    # ascii() is the first character's code point (0 for ''): integers compare for a fraction
    # of what text does, and PostgreSQL converts the whole text for a regular expression, so it
    # tries one only on a cell that starts with a space (docs/benchmarks.md, issue 23).
    triggers = ", ".join(str(ord(c)) for c in FORMULA_TRIGGERS)
    spaces = ", ".join(str(ord(c)) for c in CELL_SPACES if c not in FORMULA_TRIGGERS)
    leading = sql_literal(f"^{sql_class(CELL_SPACES)}+{sql_class(FORMULA_SIGNS)}")
    return (
        f"nullif(CASE WHEN ascii({expression}) IN ({triggers}) "
        f"OR ascii({expression}) IN ({spaces}) AND {expression} ~ {leading} "
        f"THEN '''' || {expression} ELSE {expression} END, '')"
    )


def sql_class(chars: str) -> str:
    """A PostgreSQL regular expression's [class] of these characters, each as a \\u escape."""
    return "[" + "".join(f"\\u{ord(c):04x}" for c in chars) + "]"


def sql_local_iso(column: str) -> str:
    """SQL for local_iso(): to the second in settings.TIME_ZONE, with the UTC offset.

    The zone's offsets of this year (winter and summer time) are spelled out, so that a row
    works its offset out once; any other (from the zone's history) is formatted from the interval.
    """
    zone = ZoneInfo(settings.TIME_ZONE)
    local = f"({column} AT TIME ZONE {sql_literal(settings.TIME_ZONE)})"
    offset = f"({local} - ({column} AT TIME ZONE 'UTC'))"
    year = timezone.now().year
    usual = {datetime(year, month, 1, tzinfo=zone).utcoffset() for month in (1, 7)}
    whens = " ".join(
        f"WHEN interval '{seconds:d} seconds' THEN {sql_literal(iso_offset(seconds))}"
        for seconds in sorted(int(cast(timedelta, delta).total_seconds()) for delta in usual)
        if seconds % 60 == 0
    )
    return (
        f"to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE {offset} {whens} "
        f"ELSE CASE WHEN {offset} < interval '0' THEN '-' ELSE '+' END "
        f"|| to_char(greatest({offset}, -{offset}), 'HH24:MI') END"
    )


def iso_offset(seconds: int) -> str:
    """+01:00 for 3600 seconds, -03:30 for -12600: as isoformat() writes a whole-minute offset."""
    sign = "-" if seconds < 0 else "+"
    return f"{sign}{abs(seconds) // 3600:02d}:{abs(seconds) % 3600 // 60:02d}"


def sql_choice_label(column: str, choices) -> str:
    """SQL for get_FOO_display(): the label of a choice, or the stored value if unknown."""
    whens = " ".join(
        f"WHEN {sql_literal(value)} THEN {sql_literal(str(label))}" for value, label in choices
    )
    return f"CASE {column} {whens} ELSE nullif({column}, '') END"


# co.cell is Submission.co_contributor_lines(), co.credit the co-contributors' part of
# Submission.credit_line(); both only for a submission with co-contributors (see "Links").
CO_CONTRIBUTORS = """LEFT JOIN LATERAL (
    SELECT (
        SELECT string_agg(
            (p.value ->> 'name') || coalesce(' (' || nullif(concat_ws(', ',
                nullif(p.value ->> 'organisation', ''),
                'ORCID iD ' || nullif(p.value ->> 'orcid', '')), '') || ')', ''),
            E'\\n' ORDER BY p.position
        )
        FROM jsonb_array_elements(s.co_contributors) WITH ORDINALITY AS p(value, position)
    ) AS cell,
    (
        SELECT string_agg(
            nullif(concat_ws(', ', nullif(p.value ->> 'name', ''),
                nullif(p.value ->> 'organisation', '')), ''),
            '; ' ORDER BY p.position
        )
        FROM jsonb_array_elements(s.co_contributors) WITH ORDINALITY AS p(value, position)
    ) AS credit
    WHERE s.co_contributors <> '[]'::jsonb OFFSET 0
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

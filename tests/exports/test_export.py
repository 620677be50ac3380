"""The CSV export: its format, its safety, its two paths, and the export_submissions command."""

import csv
import io
import re
import shutil
import subprocess
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from submissions.exports.writer import SubmissionCsv
from submissions.models import ExportRecord, Submission, Theme
from tests.browser import missing
from tests.factories import make_attachment, make_call, make_submission

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="The COPY path needs PostgreSQL; on SQLite only the Python path exists.",
)

# OWASP's list, as the issue gives it; written out here so the test does not trust the code.
FORMULA_TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "\n"]
# The full-width forms some spreadsheets also read as formula signs.
FULL_WIDTH_TRIGGERS = ["\uff1d", "\uff0b", "\uff0d", "\uff20"]
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
HEADER_BEFORE_QUESTIONS = [
    "Reference",
    "Call",
    "Submitted at",
    "Late",
    "Review status",
    "Withdrawal requested at",
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
HEADER_AFTER_QUESTIONS = ["Links", "Files", "Themes", "Reviewer notes"]


def export_bytes(queryset=None, **options) -> bytes:
    # `is None`, not `or`: an empty queryset is false, and must export nothing, not everything.
    queryset = Submission.objects.all() if queryset is None else queryset
    return b"".join(SubmissionCsv(queryset, **options))


def parse(data: bytes) -> list[dict[str, str]]:
    """Read the file as a spreadsheet would: BOM stripped, RFC 4180 quoting."""
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def export_rows(queryset=None, **options) -> list[dict[str, str]]:
    return parse(export_bytes(queryset, **options))


@pytest.fixture(params=["default path", "python path"])
def use_copy(request) -> bool | None:
    """Run a test through the database's own path and through the Python path."""
    return None if request.param == "default path" else False


def test_the_file_is_utf8_with_a_bom_and_the_header_in_the_documented_order(db):
    call = make_call(questions=2)
    make_submission(call)

    data = export_bytes()

    assert data.startswith("\ufeffReference,Call,Submitted at,".encode())
    header = next(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert header == [
        *HEADER_BEFORE_QUESTIONS,
        "Question 1",
        "Question 2",
        *HEADER_AFTER_QUESTIONS,
    ]


def test_every_line_ends_in_crlf_and_a_multi_line_answer_stays_in_one_cell(db, use_copy):
    call = make_call(questions=1)
    question = call.questions.get()
    make_submission(call, answers={str(question.pk): "First line\nsecond line"})
    make_submission(call)

    data = export_bytes(use_copy=use_copy)

    assert b'"First line\nsecond line"' in data
    assert data.endswith(b"\r\n")
    assert data.count(b"\r\n") == 3  # the header and two rows
    rows = parse(data)
    assert rows[0]["Question 1"] == "First line\nsecond line"


def test_there_is_one_row_per_submitted_submission_and_no_drafts(db, use_copy):
    call = make_call()
    submitted = [make_submission(call) for _ in range(3)]
    make_submission(call, state=Submission.State.DRAFT, name="Drafty McDraftface")

    rows = export_rows(use_copy=use_copy)

    assert sorted(row["Reference"] for row in rows) == sorted(s.reference for s in submitted)
    assert "Drafty McDraftface" not in {row["Name"] for row in rows}


def test_rows_come_oldest_first(db, use_copy):
    call = make_call()
    later = make_submission(call, submitted_at=datetime(2018, 3, 2, tzinfo=LONDON))
    earlier = make_submission(call, submitted_at=datetime(2018, 3, 1, tzinfo=LONDON))

    rows = export_rows(use_copy=use_copy)

    assert [row["Reference"] for row in rows] == [earlier.reference, later.reference]


def test_a_row_carries_every_detail_of_the_submission(db, use_copy, settings):
    settings.SITE_URL = "https://evidence.example.org/"
    call = make_call(questions=2, title="What Works: Social Media")
    q1, q2 = call.questions.all()
    submission = make_submission(
        call,
        reference="ABCD2345",
        submitted_at=datetime(2018, 3, 7, 0, 30, tzinfo=LONDON),
        is_late=True,
        review_status=Submission.ReviewStatus.SHORTLISTED,
        name="Siân Lloyd-Jones",
        email="sian@example.ac.uk",
        role="Lecturer",
        organisation="Prifysgol Bangor University",
        orcid="0000-0002-1825-0097",
        website="https://example.ac.uk/sian",
        credit_preference=Submission.Credit.NAME_AND_ORGANISATION,
        consent_given_at=datetime(2018, 6, 1, 9, 15, 30, 999999, tzinfo=LONDON),
        answers={str(q1.pk): "Weekly Twitter chats.", str(q2.pk): ""},
        links=["https://example.org/a", "https://example.org/b"],
        reviewer_notes="Ask for the evaluation.",
    )
    submission.themes.set(
        [Theme.objects.create(name="Podcasts"), Theme.objects.create(name="Blogging")]
    )
    report = make_attachment(submission, original_name="report.pdf", size=2048)
    slides = make_attachment(submission, original_name="slides.pdf", size=1000000)

    [row] = export_rows(use_copy=use_copy)

    assert row == {
        "Reference": "ABCD2345",
        "Call": "What Works: Social Media",
        "Submitted at": "2018-03-07T00:30:00+00:00",
        "Late": "yes",
        "Review status": "Shortlisted",
        "Withdrawal requested at": "",
        "Name": "Siân Lloyd-Jones",
        "Email": "sian@example.ac.uk",
        "Role": "Lecturer",
        "Organisation": "Prifysgol Bangor University",
        "ORCID iD": "0000-0002-1825-0097",
        "Website": "https://example.ac.uk/sian",
        "Credit preference": "My name and organisation",
        "Credit line": "Siân Lloyd-Jones, Prifysgol Bangor University",
        "Co-contributors": "",
        "Licence": "CC-BY-NC-4.0",
        # British Summer Time, to the second.
        "Consent given at": "2018-06-01T09:15:30+01:00",
        "Question 1": "Weekly Twitter chats.",
        "Question 2": "",
        "Links": "https://example.org/a\nhttps://example.org/b",
        "Files": (
            f"report.pdf (2048 bytes) https://evidence.example.org/staff/files/{report.pk}/\n"
            f"slides.pdf (1000000 bytes) https://evidence.example.org/staff/files/{slides.pk}/"
        ),
        "Themes": "Blogging; Podcasts",
        "Reviewer notes": "Ask for the evaluation.",
    }


def test_a_withdrawal_request_has_a_column_of_its_own(db, use_copy):
    call = make_call()
    asked = make_submission(call, reference="WITHDRAW")
    # 7 March 2018 at 09:30 UK time (GMT then).
    asked.request_withdrawal(at=datetime(2018, 3, 7, 9, 30, tzinfo=LONDON))
    make_submission(call, reference="STAYING2")

    rows = export_rows(use_copy=use_copy)

    assert {row["Reference"]: row["Withdrawal requested at"] for row in rows} == {
        "WITHDRAW": "2018-03-07T09:30:00+00:00",
        "STAYING2": "",
    }


def test_the_credit_line_follows_the_credit_preference(db, use_copy):
    call = make_call()
    details = {"name": "Ruth Evans", "organisation": "Cardiff University"}
    make_submission(call, credit_preference=Submission.Credit.ORGANISATION_ONLY, **details)
    make_submission(call, credit_preference=Submission.Credit.NONE, **details)
    make_submission(call, credit_preference=Submission.Credit.NAME_AND_ORGANISATION, name="Ruth")

    rows = export_rows(use_copy=use_copy)

    assert [(row["Credit preference"], row["Credit line"]) for row in rows] == [
        ("My organisation only", "Cardiff University"),
        ("Do not credit me publicly", ""),
        ("My name and organisation", "Ruth, University of Somewhere"),
    ]


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_a_cell_starting_with_a_formula_character_gets_a_leading_apostrophe(db, use_copy, trigger):
    call = make_call(questions=1)
    question = call.questions.get()
    payload = f'{trigger}HYPERLINK("https://evil.example","Click")'
    make_submission(
        call,
        name=payload,
        organisation=payload,
        answers={str(question.pk): payload},
        links=[payload],
        reviewer_notes=payload,
    )

    [row] = export_rows(use_copy=use_copy)

    for column in ["Name", "Organisation", "Question 1", "Links", "Reviewer notes"]:
        assert row[column] == "'" + payload, column
    assert row["Credit line"] == f"'{payload}, {payload}"


def test_a_question_title_starting_with_a_formula_character_is_neutralised_too(db):
    call = make_call(questions=1)
    call.questions.update(short_title="=Score (1-5)")
    make_submission(call)

    [row] = export_rows()

    assert "'=Score (1-5)" in row


@pytest.mark.parametrize("trigger", FULL_WIDTH_TRIGGERS)
def test_a_cell_starting_with_a_full_width_formula_sign_gets_a_leading_apostrophe(
    db, use_copy, trigger
):
    call = make_call(questions=1)
    question = call.questions.get()
    payload = f"{trigger}1+cmd|' /C calc'!A0"
    make_submission(call, name=payload, answers={str(question.pk): payload})

    [row] = export_rows(use_copy=use_copy)

    assert row["Name"] == "'" + payload
    assert row["Question 1"] == "'" + payload


@pytest.mark.parametrize("split", [";", "\t", "\n", "\r\n"])
@pytest.mark.parametrize("sign", ["=", "+", "-", "@", "\uff1d"])
def test_a_formula_sign_after_a_semicolon_tab_or_line_break_gets_an_apostrophe(
    db, use_copy, split, sign
):
    # A spreadsheet splitting at ";" or tab makes the rest a cell of its own, and a line break
    # then starts a new row: "Bob;=1+cmd|' /C calc'!A0" would run.
    call = make_call(questions=1)
    question = call.questions.get()
    payload = f"Bob{split}{sign}1+cmd|' /C calc'!A0"
    make_submission(
        call,
        name=payload,
        answers={str(question.pk): f"First{split}{sign}one{split}{sign}two"},
        links=[f"https://example.org/a{split}{sign}b"],
    )

    [row] = export_rows(use_copy=use_copy)

    assert row["Name"] == f"Bob{split}'{sign}1+cmd|' /C calc'!A0"
    assert row["Question 1"] == f"First{split}'{sign}one{split}'{sign}two"
    assert row["Links"] == f"https://example.org/a{split}'{sign}b"


# Spaces a spreadsheet may trim from the start of a cell ("Trim spaces" in LibreOffice): plain,
# no-break, em, narrow no-break, ideographic; written out so the test does not trust the code.
SPACES = [" ", "   ", "\u00a0", "\u2003", "\u202f", "\u3000", " \u00a0 "]


@pytest.mark.parametrize("space", SPACES)
@pytest.mark.parametrize("split", [";", "\t", "\n", "\r\n"])
def test_a_formula_sign_after_a_break_and_spaces_gets_an_apostrophe(db, use_copy, split, space):
    # Split at ";" with spaces trimmed, "x; =1+3" is the cell "=1+3".
    call = make_call(questions=1)
    question = call.questions.get()
    make_submission(
        call,
        name=f"Bob{split}{space}=1+cmd|' /C calc'!A0",
        answers={str(question.pk): f"x{split}{space}+1+3{split}{space}-1+4"},
        links=[f"https://example.org/a{split}{space}@SUM(1+5)"],
    )

    [row] = export_rows(use_copy=use_copy)

    assert row["Name"] == f"Bob{split}{space}'=1+cmd|' /C calc'!A0"
    assert row["Question 1"] == f"x{split}{space}'+1+3{split}{space}'-1+4"
    assert row["Links"] == f"https://example.org/a{split}{space}'@SUM(1+5)"


@pytest.mark.parametrize("space", [" ", "   ", "\u00a0", "\u2003", "\u3000"])
def test_a_cell_starting_with_spaces_then_a_formula_sign_gets_a_leading_apostrophe(
    db, use_copy, space
):
    call = make_call(questions=1)
    question = call.questions.get()
    make_submission(call, name=f"{space}=1+2", answers={str(question.pk): f"{space}\uff0b1+2"})

    [row] = export_rows(use_copy=use_copy)

    assert row["Name"] == f"'{space}=1+2"
    assert row["Question 1"] == f"'{space}\uff0b1+2"


def test_a_co_contributor_named_as_a_formula_is_neutralised_in_the_credit_line(db, use_copy):
    # The credit line joins people with "; ": the co-contributor's name follows a break and a space.
    call = make_call()
    make_submission(
        call,
        name="Ann",
        organisation="Org",
        co_contributors=[{"name": "=1+cmd|' /C calc'!A0", "organisation": "", "orcid": ""}],
    )

    [row] = export_rows(use_copy=use_copy)

    assert row["Credit line"] == "Ann, Org; '=1+cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    "text",
    [
        # Full-width and half-width forms whose UTF-8 starts with the bytes of the full-width signs.
        "Cost\n＄5 a month",  # noqa: RUF001
        "Tokyo\nｱﾝｹｰﾄ results",
        "Score\n（1-5）",  # noqa: RUF001
        'Quote;"=not a formula: the quote comes first"',
        "Range 1-5; 10+ people",
        "Spaced;  a letter comes first",
        "Scores;  10 + 2",
    ],
)
def test_text_after_a_break_that_is_no_formula_sign_is_left_as_written(db, use_copy, text):
    call = make_call(questions=1)
    question = call.questions.get()
    make_submission(call, answers={str(question.pk): text})

    [row] = export_rows(use_copy=use_copy)

    assert row["Question 1"] == text


def libreoffice_formulas(tmp_path, files: dict[str, bytes]) -> dict[str, list[str]]:
    """Open each CSV in LibreOffice Calc, split at ";" and tab with "Trim spaces" on, and list
    the formulas it made."""
    for name, data in files.items():
        (tmp_path / f"{name}.csv").write_bytes(data)
    # 59/9: ";" and tab as separators; 34: double quotes; 76: UTF-8; 1: from the first line;
    # the eleventh token, true: "Trim spaces", so " =1+3" after a ";" is the formula "=1+3".
    subprocess.run(  # noqa: S603 (LibreOffice, with file names made here)
        [
            SOFFICE,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--infilter=Text - txt - csv (StarCalc):59/9,34,76,1,,,,,,,true",
            "--convert-to",
            "ods",
            "--outdir",
            str(tmp_path / "ods"),
            *(str(tmp_path / f"{name}.csv") for name in files),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    formulas = {}
    for name in files:
        with zipfile.ZipFile(tmp_path / "ods" / f"{name}.ods") as ods:
            content = ods.read("content.xml").decode()
        formulas[name] = re.findall(r'table:formula="([^"]*)"', content)
    return formulas


def test_libreoffice_splitting_at_semicolons_finds_no_formula_in_the_export(db, use_copy, tmp_path):
    if SOFFICE is None:
        missing("LibreOffice Calc", "`make test` installs it when run as root")
    call = make_call(questions=2)
    q1, q2 = call.questions.all()
    payloads = [
        "Bob;=1+cmd|' /C calc'!A0",
        "Ann\t=1+2",
        "Several lines\n=1+3",
        "A list:\r\n- first\r\n=1+4",
        "=1+5",
        "\uff1d1+6",
        "x;@SUM(1+7)",
        "y;+1+8;-1+9",
        "x; =1+3",
        "Several lines\n =1+4",
        "Ann\t =1+5",
        "z;\u00a0=1+9",
        " =2+2",
        "w;\u3000\uff1d1+6",
    ]
    for n, payload in enumerate(payloads):
        submission = make_submission(
            call,
            name=payload,
            role=payload,
            organisation=payload,
            answers={str(q1.pk): payload, str(q2.pk): f"Fine;{payload}"},
            links=[payload],
            reviewer_notes=payload,
        )
        make_attachment(submission, original_name=f"{payload}.pdf", size=n)
    data = export_bytes(use_copy=use_copy)
    # The same cell written without neutralising, so this test sees it when LibreOffice does
    # make a formula from it.
    control = "\ufeffName\r\nBob;=1+cmd|' /C calc'!A0\r\nx; =1+3\r\n".encode()

    formulas = libreoffice_formulas(tmp_path, {"export": data, "control": control})

    assert formulas["control"][0].startswith("of:=1+cmd|")
    assert formulas["control"][1] == "of:=1+3"  # spaces trimmed: the formula this test guards
    assert formulas["export"] == []


def test_formula_characters_after_the_first_are_left_alone(db, use_copy):
    call = make_call(questions=1)
    question = call.questions.get()
    make_submission(call, name="Ann = Bob", answers={str(question.pk): "a+b-c@d"})

    [row] = export_rows(use_copy=use_copy)

    assert row["Name"] == "Ann = Bob"
    assert row["Question 1"] == "a+b-c@d"


def test_scripts_right_to_left_text_emoji_and_quotes_survive_a_round_trip(db, use_copy):
    call = make_call(questions=3)
    q1, q2, q3 = call.questions.all()
    answers = {
        str(q1.pk): "مرحبا بالعالم، هذا نص عربي.\nשלום עולם\u200f — mixed with English",  # noqa: RUF001
        str(q2.pk): "Emoji 👩🏽‍🔬🧪🇬🇧, CJK 社交媒体, Cyrillic Привет, Welsh ŵ ŷ, e\u0301",
        str(q3.pk): 'She said "it works", then: ,,; "" \\. \r\nand a CRLF.',
    }
    make_submission(call, name="محمد حداد", organisation="王 大学", answers=answers)

    [row] = export_rows(use_copy=use_copy)

    assert row["Name"] == "محمد حداد"
    assert row["Organisation"] == "王 大学"
    assert [row["Question 1"], row["Question 2"], row["Question 3"]] == list(answers.values())


def test_several_calls_share_one_header_with_each_calls_questions(db, use_copy):
    alpha = make_call(slug="alpha", questions=2)
    beta = make_call(slug="beta", questions=1)
    a1, a2 = alpha.questions.all()
    (b1,) = beta.questions.all()
    make_submission(alpha, answers={str(a1.pk): "alpha one", str(a2.pk): "alpha two"})
    make_submission(beta, answers={str(b1.pk): "beta one"})

    data = export_bytes(use_copy=use_copy)

    header = next(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    questions = ["alpha: Question 1", "alpha: Question 2", "beta: Question 1"]
    assert header == [*HEADER_BEFORE_QUESTIONS, *questions, *HEADER_AFTER_QUESTIONS]
    rows = parse(data)
    assert [[row[q] for q in questions] for row in rows] == [
        ["alpha one", "alpha two", ""],
        ["", "", "beta one"],
    ]


def test_an_export_with_no_submissions_is_just_the_header(db, use_copy):
    make_call()

    data = export_bytes(use_copy=use_copy)

    header = ",".join(HEADER_BEFORE_QUESTIONS + HEADER_AFTER_QUESTIONS)
    assert data == f"\ufeff{header}\r\n".encode()


@pytest.mark.parametrize("rows", [1, 25])
def test_the_number_of_queries_does_not_grow_with_the_rows(
    db, use_copy, rows, django_assert_num_queries
):
    call = make_call()
    theme = Theme.objects.create(name="Podcasts")
    for _ in range(rows):
        submission = make_submission(call)
        submission.themes.add(theme)
        make_attachment(submission, original_name=f"{submission.reference}.pdf", size=10)
    copies = use_copy is None and connection.vendor == "postgresql"

    # The questions, then JIT off and one COPY; or the rows, their themes and their files.
    with django_assert_num_queries(3 if copies else 4):
        data = export_bytes(use_copy=use_copy)

    assert len(parse(data)) == rows


@on_postgresql
def test_the_copy_path_and_the_python_path_give_byte_identical_files(db, settings):
    # A percent sign, and a quote, in a value the COPY statement carries as a literal.
    settings.SITE_URL = "https://evidence.example.org/o'brien%20site"
    alpha = make_call(slug="alpha", title='=Alpha, "quoted"', questions=2)
    beta = make_call(slug="beta", title="Beta", questions=1)
    themes = [Theme.objects.create(name=n) for n in ["Zebra", "éclair", "Apple", "apple pie"]]
    awkward = [
        *(f"{t}starts with a trigger" for t in FORMULA_TRIGGERS),
        "",
        " leading and trailing spaces ",
        'quotes " and "" and ,commas,',
        "\\.",
        "line\nfeed",
        "carriage\rreturn",
        "crlf\r\nend\r\n",
        "tab\tinside",
        "🧪 社交媒体 שלום مرحبا",
        *(f"{t}full-width" for t in FULL_WIDTH_TRIGGERS),
        "Bob;=1+cmd|' /C calc'!A0;+2\t-3\n@4\r\n\uff1d5;;=6\n\n-7",
        "x; =1+3\n =1+4\t =1+5;\u00a0=1+9; \u2003\u3000-1",
        " =starts with a space",
        "\u00a0\uff20starts with a no-break space",
        "   ",
        "spaces; then text;  and no sign",
    ]
    for n, text in enumerate(awkward):
        call = alpha if n % 2 else beta
        questions = list(call.questions.all())
        submission = make_submission(
            call,
            submitted_at=datetime(2018, 1 + n % 12, 1 + n, 12, n, n, n * 1000, tzinfo=LONDON),
            consent_given_at=None if n == 3 else datetime(2018, 7, 1, tzinfo=LONDON),
            is_late=bool(n % 3),
            review_status=Submission.ReviewStatus.values[n % 5],
            credit_preference=["", *Submission.Credit.values][n % 4],
            name=text,
            email=f"person{n}@example.org",
            role=text,
            organisation=awkward[-1 - n],
            orcid="",
            website="" if n % 2 else "https://example.org/" + str(n),
            answers={str(q.pk): text + str(i) for i, q in enumerate(questions)},
            links=[text, f"https://example.org/{n}"] if n % 2 else [],
            co_contributors=[
                {"name": text, "organisation": awkward[-1 - n], "orcid": ""},
                {"name": f"Second {n}", "organisation": "", "orcid": "0000-0002-1825-0097"},
            ]
            if n % 4 == 1
            else [],
            reviewer_notes=text,
        )
        submission.themes.set(themes[: n % 5])
        if n % 3 == 0:
            make_attachment(submission, original_name=f"{text or 'blank'}.pdf", size=n * 1000)
            make_attachment(submission, original_name=f"second-{n}.docx", size=7)
    make_submission(alpha, state=Submission.State.DRAFT)

    by_copy = export_bytes(use_copy=True)
    by_python = export_bytes(use_copy=False)

    assert len(parse(by_copy)) == len(awkward)
    assert by_copy == by_python


def test_filters_reach_the_export_unchanged(db, use_copy):
    call = make_call()
    wanted = make_submission(call, review_status=Submission.ReviewStatus.INCLUDED)
    make_submission(call, review_status=Submission.ReviewStatus.NEW)

    rows = export_rows(Submission.objects.filter(review_status="included"), use_copy=use_copy)
    none = export_rows(Submission.objects.filter(review_status="shortlisted"), use_copy=use_copy)

    assert [row["Reference"] for row in rows] == [wanted.reference]
    assert none == []  # a filter that matches nothing exports nothing


# The command.


def run_export(*args) -> str:
    err = io.StringIO()
    call_command("export_submissions", *args, stderr=err)
    return err.getvalue()


def test_the_command_writes_the_file_and_records_the_export(db, tmp_path):
    call = make_call()
    submissions = [make_submission(call) for _ in range(3)]
    target = tmp_path / "export.csv"

    message = run_export("-o", str(target))

    rows = parse(target.read_bytes())
    assert sorted(row["Reference"] for row in rows) == sorted(s.reference for s in submissions)
    assert f"Exported 3 submissions to {target}." in message
    assert not (tmp_path / "export.csv.part").exists()
    record = ExportRecord.objects.get()
    assert record.source == ExportRecord.Source.COMMAND
    assert record.user is None and record.username
    assert record.row_count == 3 and record.completed_at is not None
    assert record.filters == {}


def test_the_command_writes_to_standard_output_with_a_dash(db, capsysbinary):
    call = make_call()
    submission = make_submission(call)

    run_export("-o", "-")

    [row] = parse(capsysbinary.readouterr().out)
    assert row["Reference"] == submission.reference


def test_the_command_filters_by_call_status_and_since(db, tmp_path):
    alpha, beta = make_call(slug="alpha"), make_call(slug="beta")
    march = datetime(2018, 3, 1, 0, 0, tzinfo=LONDON)
    wanted = make_submission(alpha, review_status="shortlisted", submitted_at=march)
    make_submission(
        alpha,
        review_status="shortlisted",
        submitted_at=datetime(2018, 2, 28, 23, 59, tzinfo=LONDON),
    )
    make_submission(alpha, review_status="new", submitted_at=march)
    make_submission(beta, review_status="shortlisted", submitted_at=march)
    target = tmp_path / "out.csv"

    run_export(
        "--call", "alpha", "--status", "shortlisted", "--since", "2018-03-01", "-o", str(target)
    )

    assert [row["Reference"] for row in parse(target.read_bytes())] == [wanted.reference]
    assert ExportRecord.objects.get().filters == {
        "call": "alpha",
        "status": "shortlisted",
        "since": "2018-03-01T00:00:00+00:00",
    }


def test_the_command_refuses_an_unknown_call_and_a_bad_date(db, tmp_path):
    target = str(tmp_path / "out.csv")
    with pytest.raises(CommandError, match="No call with the slug 'nope'"):
        run_export("--call", "nope", "-o", target)
    with pytest.raises(CommandError, match="--since must be a date like 2018-03-01"):
        run_export("--since", "last tuesday", "-o", target)
    assert not ExportRecord.objects.exists()


def test_the_spaces_before_a_sign_are_every_character_python_calls_a_space():
    from submissions.exports.columns import CELL_SPACES

    assert set(CELL_SPACES) == {chr(n) for n in range(0x110000) if chr(n).isspace()}


@on_postgresql
def test_dates_keep_their_offset_in_any_zone_and_any_year(db, settings):
    """The COPY path spells out the zone's offsets of this year and formats any other; both
    give what the Python path gives (Kolkata: +05:30 now, +06:30 in the war years)."""
    settings.TIME_ZONE = "Asia/Kolkata"
    call = make_call()
    for moment in [datetime(2018, 3, 6, 23, 59, 1, tzinfo=UTC), datetime(1943, 5, 1, tzinfo=UTC)]:
        make_submission(call, submitted_at=moment, consent_given_at=moment)

    by_copy = export_bytes(use_copy=True)

    assert by_copy == export_bytes(use_copy=False)
    assert [row["Submitted at"] for row in parse(by_copy)] == [
        "1943-05-01T06:30:00+06:30",
        "2018-03-07T05:29:01+05:30",
    ]

"""The synthesis pack for the What Works event: what it holds, in which order, and the PDF as a
person reads it (its text read back, its pages turned into pictures)."""

import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from submissions.common.wording import LONDON
from submissions.models import NO_THEME_ID, Submission, SynthesisPack, SynthesisPackPdf, Theme
from submissions.publishing.pack import build_pack, options_for, pack_pdf, printed

from ..browser import missing
from ..factories import (
    assign,
    make_attachment,
    make_call,
    make_call_manager,
    make_reviewer,
    make_staff_without_group,
    make_submission,
)
from ..worker import run_worker

pytestmark = pytest.mark.django_db
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
INCLUDED = Submission.ReviewStatus.INCLUDED
SHORTLISTED = Submission.ReviewStatus.SHORTLISTED


@pytest.fixture
def themed(seeded_call):
    """The seeded call with contributions of every kind the pack must choose between."""
    tools = Theme.objects.create(name="Tools")
    risks = Theme.objects.create(name="Risks and how people met them")
    questions = list(seeded_call.questions.all())

    def contribution(name: str, status, themes, **fields):
        submission = make_submission(
            seeded_call,
            name=name,
            organisation="University of Bristol",
            email=f"{name.split()[0].lower()}@example.ac.uk",
            review_status=status,
            answers={str(questions[0].pk): f"{name} ran a Twitter chat.\n\nIt worked."},
            **fields,
        )
        submission.themes.set(themes)
        return submission

    people = {
        "ana": contribution("Ana Tools", INCLUDED, [tools]),
        "bea": contribution("Bea Both", INCLUDED, [tools, risks], links=["https://bea.example/x"]),
        "cy": contribution("Cy Risks", INCLUDED, [risks]),
        "dev": contribution("Dev Shortlisted", SHORTLISTED, [tools]),
        "eve": contribution("Eve Withdrawn", INCLUDED, [tools]),
        "fay": contribution("Fay Not Included", Submission.ReviewStatus.NOT_INCLUDED, [tools]),
        "gus": contribution("Gus New", Submission.ReviewStatus.NEW, [tools]),
        "hal": contribution("Hal Unthemed", INCLUDED, []),
        "ivy": contribution("Ivy Erased", INCLUDED, [tools]),
        "jo": contribution(
            "Jo Hidden", INCLUDED, [risks], credit_preference=Submission.Credit.NONE
        ),
    }
    make_attachment(people["ana"], original_name="Evaluation 2017.pdf", size=2_500_000)
    people["eve"].request_withdrawal()
    people["ivy"].erase()
    draft = make_submission(
        seeded_call, name="Kim Draft", state=Submission.State.DRAFT, review_status=INCLUDED
    )
    draft.themes.set([tools])
    elsewhere = make_submission(make_call(), name="Lee Elsewhere", review_status=INCLUDED)
    elsewhere.themes.set([tools])
    return seeded_call, tools, risks, people


def pack_page(call, username: str = "bob") -> str:
    client = Client()
    client.force_login(make_call_manager(username))
    response = client.get(reverse("admin:submissions_call_pack_print", args=[call.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_pack_holds_every_included_contribution_under_each_of_its_themes(themed):
    call, *_ = themed

    html = pack_page(call)

    # By default: every theme of the included ones, by name, and "No theme" last.
    assert html.index("</span> Risks and how people met them</h2>") < html.index(
        "</span> Tools</h2>"
    )
    assert html.index("</span> Tools</h2>") < html.index("</span> No theme</h2>")
    for name in ["Ana Tools", "Bea Both", "Cy Risks", "Hal Unthemed"]:
        assert f"{name}, University of Bristol" in html
    assert html.count("Bea Both, University of Bristol") == 4  # heading and credit, two themes
    assert "A contributor who asked not to be named" in html  # Jo
    assert "Ana Tools ran a Twitter chat." in html
    assert (
        "<blockquote><p>Ana Tools ran a Twitter chat.</p>\n<p>It worked.</p></blockquote>" in html
    )
    assert '<a href="https://bea.example/x">https://bea.example/x</a>' in html
    assert "Evaluation 2017.pdf (2.4 MB)" in html
    for absent in ["Dev", "Eve", "Fay", "Gus", "Ivy", "Kim", "Lee"]:
        assert absent not in html, absent


def test_the_pack_never_shows_an_email_address_a_reference_or_a_role(themed):
    call, *_ = themed

    html = pack_page(call)

    assert "@" not in html
    for reference in Submission.objects.filter(call=call).values_list("reference", flat=True):
        assert reference is None or reference not in html
    assert "Lecturer" not in html


def test_staff_choose_the_themes_their_order_and_the_shortlisted_ones(themed):
    call, tools, *_ = themed
    SynthesisPack.objects.create(call=call, theme_order=[tools.pk], include_shortlisted=True)

    html = pack_page(call)

    assert "Risks and how people met them" not in html
    assert "Cy Risks" not in html and "Hal Unthemed" not in html
    # Shortlisted ones come after the included ones of their theme, and say so.
    assert html.index("Bea Both") < html.index("Dev Shortlisted")
    assert 'Dev Shortlisted, University of Bristol <span class="pack-label">Shortlisted</span>' in (
        html
    )
    assert "Eve" not in html and "Fay" not in html


def test_the_cover_counts_each_theme_with_a_chart(themed):
    call, tools, risks, _ = themed
    options = SynthesisPack(call=call, theme_order=[risks.pk, tools.pk, NO_THEME_ID])
    options.include_shortlisted = True

    pack = build_pack(call, options)

    assert [(s.name, s.included, s.shortlisted) for s in pack.sections] == [
        ("Risks and how people met them", 3, 0),
        ("Tools", 2, 1),
        ("No theme", 1, 0),
    ]
    assert pack.contributions == 6  # Bea once, though under two themes
    chart = pack.chart
    assert chart is not None
    assert [row.name for row in chart.rows] == [s.name for s in pack.sections]
    # One scale: three included ones make a bar three times as long as one.
    assert chart.rows[0].included_width == pytest.approx(3 * chart.rows[2].included_width)


def test_what_the_pack_would_print_is_counted_as_build_pack_prints_it(themed):
    # printed() is how the PDF's page tells, in one query, what a PDF holds and whether the
    # one made is out of date: it must agree with build_pack() on every choice.
    call, tools, risks, _ = themed
    for order, shortlisted in [
        ([tools.pk], False),
        ([tools.pk], True),
        ([risks.pk, NO_THEME_ID], False),
        ([NO_THEME_ID, risks.pk, tools.pk], True),
        ([], True),
    ]:
        options = SynthesisPack(call=call, theme_order=order, include_shortlisted=shortlisted)
        pack = build_pack(call, options)

        ids, entries = printed(call, options)

        assert ids == pack.submission_ids, (order, shortlisted)
        assert entries == pack.entries == sum(len(s.entries) for s in pack.sections)
        assert len(ids) == pack.contributions
    both = SynthesisPack(call=call, theme_order=[tools.pk, risks.pk])
    assert printed(call, both)[1] == len(printed(call, both)[0]) + 1  # Bea, under both


def test_the_pack_costs_the_same_queries_for_three_or_thirty_contributions(seeded_call):
    tools = Theme.objects.create(name="Tools")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            build_pack(seeded_call, options_for(seeded_call))
        return len(captured)

    def add(n: int) -> None:
        for _ in range(n):
            submission = make_submission(seeded_call, review_status=INCLUDED)
            submission.themes.set([tools])
            make_attachment(submission)

    add(3)
    few = queries()
    add(27)
    assert (
        queries() == few == 7
    )  # the options (2), then questions, themes, rows, their themes, their files


def test_only_staff_who_review_the_call_see_its_pack(themed):
    call, *_ = themed
    urls = [
        reverse(name, args=[call.pk])
        for name in [
            "admin:submissions_call_pack_print",
            "admin:submissions_call_pack",
            "admin:submissions_call_outcome",
        ]
    ]
    other = make_call()
    stranger = make_reviewer("alice")
    assign(stranger, other)
    nobody = make_staff_without_group("dave")
    for user, expected in [(stranger, 404), (nobody, 403)]:
        client = Client()
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == expected, (user, url)
    assign(stranger, call)
    client = Client()
    client.force_login(stranger)
    assert all(client.get(url).status_code == 200 for url in urls)
    assert Client().get(urls[0]).status_code == 302  # to the sign-in page


def pdf_pages(pdf: bytes) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages]


def test_the_pdf_reads_back_with_a_theme_to_a_page_and_page_numbers(themed, tmp_path):
    call, tools, risks, _ = themed
    SynthesisPack.objects.create(
        call=call, theme_order=[tools.pk, risks.pk], include_shortlisted=True
    )
    client = Client()
    client.force_login(make_call_manager())

    # "Download the PDF": the worker makes it (tests/publishing/test_pack_file.py), then staff
    # download it.
    client.post(reverse("admin:submissions_call_pack_pdf", args=[call.pk]), {"action": "download"})
    run_worker()  # the fixture's emails (a withdrawal, an erasure), and the PDF
    assert SynthesisPackPdf.objects.get().state == SynthesisPackPdf.State.READY
    response = client.get(reverse("admin:submissions_call_pack_pdf_file", args=[call.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    made = SynthesisPackPdf.objects.get().finished_at.astimezone(LONDON)
    assert response["Content-Disposition"] == (
        f'attachment; filename="synthesis-pack-what-works-social-media-{made:%Y-%m-%d}.pdf"; '
        f"filename*=UTF-8''synthesis-pack-what-works-social-media-{made:%Y-%m-%d}.pdf"
    )
    content = b"".join(response.streaming_content)
    pages = pdf_pages(content)
    total = len(pages)
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in text
    assert "What Works: Social Media" in pages[0]
    assert "What excellent practice have we missed?" in pages[0]
    # Each theme opens a page of its own, in the order chosen.
    openings = [n for n, text in enumerate(pages) if text.lstrip().startswith("THEME")]
    assert [pages[n].split("\n")[1] for n in openings] == ["Tools", "Risks and how people met them"]
    everything = "\n".join(pages)
    for name in ["Ana Tools", "Bea Both", "Cy Risks", "Dev Shortlisted"]:
        assert f"{name}, University of Bristol" in everything
    for absent in ["Eve", "Fay", "Gus", "Ivy", "Kim", "Lee", "Hal", "@"]:
        assert absent not in everything, absent

    # The pages as pictures, for a person to look at (screenshots/pack-*.png).
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        missing("pdftoppm (Debian's poppler-utils)", "`make test` installs it when run as root")
    (tmp_path / "pack.pdf").write_bytes(content)
    subprocess.run(  # noqa: S603 - our own file, Debian's tool
        [pdftoppm, "-r", "50", "-png", str(tmp_path / "pack.pdf"), str(tmp_path / "pack")],
        check=True,
        timeout=60,
    )
    pictures = sorted(tmp_path.glob("pack-*.png"))
    assert len(pictures) == total
    SCREENSHOTS.mkdir(exist_ok=True)
    for picture in pictures:
        shutil.copy(picture, SCREENSHOTS / picture.name)

    # What the pictures show, not only how many there are.
    images = [looked_at(picture) for picture in pictures]
    for number, image in enumerate(images, start=1):
        # Words on the page, and its number in the bottom right-hand corner.
        assert ink(image, (0.05, 0.05, 0.95, 0.90)) > 0.002, f"page {number} is blank"
        assert ink(image, (0.60, 0.93, 0.95, 1.0)) > 0.002, f"page {number} has no number"
    # The blue rule under a theme's title is on the pages the text says open a theme, no other.
    assert [n for n, image in enumerate(images) if theme_rule(image)] == openings
    # The cover's chart: Tools 2 included + 1 shortlisted, Risks 3 included, as bars of their
    # lengths (dark for included, light for shortlisted), one under the other.
    bars = chart_bars(images[0])
    assert len(bars) == 2, bars
    (tools_dark, tools_light), (risks_dark, risks_light) = bars
    assert tools_light > 0 and risks_light == 0, bars
    assert abs(tools_dark - 2 * tools_light) <= 3, bars
    assert abs((tools_dark + tools_light) - risks_dark) <= 3, bars


BLUE, LIGHT_BLUE = (0x1D, 0x70, 0xB8), (0x9A, 0xC4, 0xE8)  # static/review/pack.css, pack.html


def looked_at(picture: Path):
    from PIL import Image

    with Image.open(picture) as image:
        return image.convert("RGB")


def ink(image, box: tuple[float, float, float, float]) -> float:
    """The share of the box's pixels (the box in fractions of the page) that are not paper."""
    width, height = image.size
    left, top, right, bottom = box
    part = image.crop(
        (int(left * width), int(top * height), int(right * width), int(bottom * height))
    )
    dark = sum(part.convert("L").histogram()[:160])  # grey levels 0-159 of 255
    return dark / (part.width * part.height)


def near(pixel: tuple[int, int, int], colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 20 for a, b in zip(pixel, colour, strict=True))


def theme_rule(image) -> bool:
    """A blue line across most of the page's width in its top quarter: a theme's title."""
    width, height = image.size
    return any(
        sum(near(image.getpixel((x, y)), BLUE) for x in range(width)) > 0.6 * width
        for y in range(height // 4)
    )


def chart_bars(image) -> list[tuple[int, int]]:
    """Each bar of the chart, top to bottom, as (dark, light) lengths in pixels along its
    middle row: rows where the chart's colours run unbroken for 10 pixels or more."""
    width, height = image.size

    def longest_run(y: int) -> int:
        longest = run = 0
        for x in range(width):
            pixel = image.getpixel((x, y))
            run = run + 1 if near(pixel, BLUE) or near(pixel, LIGHT_BLUE) else 0
            longest = max(longest, run)
        return longest

    bars: list[list[int]] = []
    for y in (y for y in range(height) if longest_run(y) >= 10):
        if bars and y == bars[-1][-1] + 1:
            bars[-1].append(y)
        else:
            bars.append([y])
    found = []
    for bar in bars:
        middle = [image.getpixel((x, bar[len(bar) // 2])) for x in range(width)]
        found.append((sum(near(p, BLUE) for p in middle), sum(near(p, LIGHT_BLUE) for p in middle)))
    return found


def test_a_name_in_any_script_is_printed_with_a_font_that_has_it(seeded_call, caplog):
    # WeasyPrint says ".notdef glyph rendered" when no installed font has a character: the
    # reader would see an empty box where the name should be.
    names = ["张伟", "محمد حداد", "יעל", "अनन्या", "Ελένη", "Дмитрий", "Nguyễn Thị", "Siân"]
    for name in names:
        make_submission(seeded_call, name=name, organisation="", review_status=INCLUDED)

    with caplog.at_level("WARNING", logger="weasyprint"):
        pdf = pack_pdf(build_pack(seeded_call, options_for(seeded_call)))

    missing = [r.getMessage() for r in caplog.records if ".notdef" in r.getMessage()]
    assert missing == []
    text = "\n".join(pdf_pages(pdf))
    assert all(name in text for name in ["Ελένη", "Дмитрий", "Nguyễn Thị", "Siân"])

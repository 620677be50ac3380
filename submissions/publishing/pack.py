"""The synthesis pack for the What Works event: a cover (the call, its questions, how many
contributions per theme, with a chart), then a section per theme, each starting a page, with
every contribution in it: its answers as quotes, its credit line, its links and its files.

Made from the review decisions: included contributions and, when staff choose, shortlisted
ones; never a withdrawn one (an erased one no longer exists). It is printed for the room, so
it holds what the public credits page would show of a contributor (the credit line) and
nothing else of them: no email address, role, ORCID iD or reference. The same HTML is the
staff's print view and, through WeasyPrint, the PDF.
"""

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from ..models import NO_THEME_ID, Attachment, Call, Question, Submission, SynthesisPack, Theme
from .credits import CREDIT_COLUMNS, sort_key

NO_THEME = "No theme"
STYLESHEET = "review/pack.css"
# The chart's coordinate box: theme names on the left, bars to the right, a row per theme.
CHART_WIDTH = 640
CHART_LABEL_WIDTH = 270
CHART_ROW = 28
CHART_BAR = 18
CHART_TOP = 8
CHART_LABEL_CHARS = 28


@dataclass
class PackFile:
    name: str
    size: int


@dataclass
class PackEntry:
    number: str  # "2.3": the third contribution of the second theme
    credit_line: str  # empty when the contributor asked not to be named
    shortlisted: bool
    answers: list[tuple[Question, str]]  # the answered questions only
    links: list[tuple[str, str | None]]  # (as written, the address if it is http or https)
    files: list[PackFile]


@dataclass
class PackSection:
    number: int
    theme_id: int
    name: str
    entries: list[PackEntry] = field(default_factory=list)

    @property
    def included(self) -> int:
        return sum(not entry.shortlisted for entry in self.entries)

    @property
    def shortlisted(self) -> int:
        return sum(entry.shortlisted for entry in self.entries)


@dataclass
class ChartRow:
    label: str
    name: str
    included: int
    shortlisted: int
    y: float
    included_width: float
    shortlisted_width: float

    @property
    def bar_y(self) -> float:
        return self.y + (CHART_ROW - CHART_BAR) / 2

    @property
    def text_y(self) -> float:
        return self.y + CHART_ROW / 2

    @property
    def shortlisted_x(self) -> float:
        return CHART_LABEL_WIDTH + self.included_width

    @property
    def count_x(self) -> float:
        return CHART_LABEL_WIDTH + self.included_width + self.shortlisted_width + 6


@dataclass
class Chart:
    rows: list[ChartRow]
    peak: int
    width: int = CHART_WIDTH
    label_width: int = CHART_LABEL_WIDTH
    bar_height: int = CHART_BAR

    @property
    def height(self) -> float:
        return CHART_TOP * 2 + CHART_ROW * len(self.rows)


@dataclass
class Pack:
    call: Call
    questions: list[Question]
    sections: list[PackSection]
    include_shortlisted: bool
    contributions: int  # distinct contributions: one with two themes is printed under both
    made_at: datetime
    submission_ids: set[int] = field(default_factory=set)  # the contributions printed

    @property
    def entries(self) -> int:
        """Contributions printed, one under two themes counted twice."""
        return sum(len(section.entries) for section in self.sections)

    @property
    def chart(self) -> Chart | None:
        return chart_of(self.sections)


@dataclass
class ThemeChoice:
    """A theme staff may put in the pack, with how many contributions it holds."""

    id: int
    name: str
    included: int = 0
    shortlisted: int = 0
    chosen: bool = False
    position: int | None = None


def pack_statuses(include_shortlisted: bool) -> list[str]:
    statuses = [Submission.ReviewStatus.INCLUDED.value]
    if include_shortlisted:
        statuses.append(Submission.ReviewStatus.SHORTLISTED.value)
    return statuses


def contributions(call: Call, include_shortlisted: bool):
    """The pack's contributions of the call: included (and shortlisted), never withdrawn."""
    return Submission.objects.filter(
        call=call,
        state=Submission.State.SUBMITTED,
        withdrawal_requested_at__isnull=True,
        review_status__in=pack_statuses(include_shortlisted),
    )


def options_for(call: Call) -> SynthesisPack:
    """The saved choices, or (unsaved) every theme of the included contributions by name."""
    saved = SynthesisPack.objects.filter(call=call).first()
    if saved is not None:
        return saved
    choices = theme_choices(call)
    order = [choice.id for choice in choices if choice.included]
    return SynthesisPack(call=call, theme_order=order, include_shortlisted=False)


def theme_choices(call: Call, chosen: SynthesisPack | None = None) -> list[ThemeChoice]:
    """Every theme among the call's included and shortlisted contributions, by name, with
    "No theme" last; each says how many it holds and where `chosen` puts it."""
    rows = contributions(call, include_shortlisted=True).values_list(
        "pk", "review_status", "themes__id", "themes__name"
    )
    choices: dict[int, ThemeChoice] = {}
    counted: set[tuple[int, int]] = set()
    for pk, status, theme_id, name in rows:
        key = theme_id or NO_THEME_ID
        choice = choices.setdefault(key, ThemeChoice(key, name or NO_THEME))
        if (pk, key) in counted:
            continue
        counted.add((pk, key))
        if status == Submission.ReviewStatus.SHORTLISTED:
            choice.shortlisted += 1
        else:
            choice.included += 1
    ordered = sorted(choices.values(), key=lambda c: (c.id == NO_THEME_ID, sort_key(c.name)))
    if chosen is not None:
        for choice in ordered:
            if choice.id in chosen.theme_order:
                choice.chosen = True
                choice.position = chosen.theme_order.index(choice.id) + 1
    return ordered


def safe_link(url: str) -> str | None:
    """The link as an address a reader may follow, or None (anything but http and https)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def build_pack(call: Call, options: SynthesisPack, at: datetime | None = None) -> Pack:
    """The pack as staff chose it: five queries, however many contributions it holds."""
    questions = list(call.questions.all())
    theme_names = dict(Theme.objects.filter(pk__in=options.theme_order).values_list("pk", "name"))
    sections = [
        PackSection(number, theme_id, theme_names.get(theme_id, NO_THEME))
        for number, theme_id in enumerate(
            [t for t in options.theme_order if t in theme_names or t == NO_THEME_ID], start=1
        )
    ]
    by_theme = {section.theme_id: section for section in sections}
    rows = (
        contributions(call, options.include_shortlisted)
        # Only what the pack prints: no email address, role or reference is ever loaded.
        .only(*CREDIT_COLUMNS, "answers", "links", "review_status", "submitted_at")
        .prefetch_related(
            Prefetch("themes", queryset=Theme.objects.only("pk")),
            Prefetch(
                "attachments",
                queryset=Attachment.objects.only("submission_id", "original_name", "size"),
            ),
        )
        .order_by("submitted_at", "pk")
    )
    placed: set[int] = set()
    for submission in rows:
        shortlisted = submission.review_status == Submission.ReviewStatus.SHORTLISTED
        theme_ids = [theme.pk for theme in submission.themes.all()] or [NO_THEME_ID]
        for theme_id in theme_ids:
            section = by_theme.get(theme_id)
            if section is None:
                continue
            placed.add(submission.pk)
            section.entries.append(
                PackEntry(
                    number="",
                    credit_line=submission.credit_line(),
                    shortlisted=shortlisted,
                    answers=[
                        (question, answer)
                        for question, answer in submission.answered_questions(questions)
                        if answer.strip()
                    ],
                    links=[(link, safe_link(link)) for link in submission.links],
                    files=[PackFile(a.original_name, a.size) for a in submission.attachments.all()],
                )
            )
    for section in sections:
        # Included ones first, then shortlisted; each in the order they arrived.
        section.entries.sort(key=lambda entry: entry.shortlisted)
        for n, entry in enumerate(section.entries, start=1):
            entry.number = f"{section.number}.{n}"
    return Pack(
        call=call,
        questions=questions,
        sections=sections,
        include_shortlisted=options.include_shortlisted,
        contributions=len(placed),
        made_at=at or timezone.now(),
        submission_ids=placed,
    )


def printed(call: Call, options: SynthesisPack) -> tuple[set[int], int]:
    """Which contributions build_pack() would print with these options, and how many entries
    (one under two themes counts twice): in one query, without building the pack."""
    chosen = set(options.theme_order)
    rows = contributions(call, options.include_shortlisted).values_list("pk", "themes__id")
    placed: set[int] = set()
    entries = 0
    for pk, theme_id in rows:
        # As build_pack: a contribution without a theme goes under "No theme" if it is chosen.
        if (theme_id or NO_THEME_ID) in chosen:
            placed.add(pk)
            entries += 1
    return placed, entries


def chart_of(sections: list[PackSection]) -> Chart | None:
    """A horizontal bar per theme: included, then shortlisted, on one scale."""
    peak = max((section.included + section.shortlisted for section in sections), default=0)
    if not peak:
        return None
    # Room on the right for the count ("12 + 3").
    scale = (CHART_WIDTH - CHART_LABEL_WIDTH - 70) / peak
    rows = []
    for n, section in enumerate(sections):
        label = section.name
        if len(label) > CHART_LABEL_CHARS:
            label = label[: CHART_LABEL_CHARS - 1] + "…"
        rows.append(
            ChartRow(
                label=label,
                name=section.name,
                included=section.included,
                shortlisted=section.shortlisted,
                y=CHART_TOP + n * CHART_ROW,
                included_width=section.included * scale,
                shortlisted_width=section.shortlisted * scale,
            )
        )
    return Chart(rows=rows, peak=peak)


def stylesheet() -> str:
    """The pack's CSS, for WeasyPrint (the browser fetches it as a static file)."""
    path = finders.find(STYLESHEET)
    assert isinstance(path, str), f"{STYLESHEET} is missing from the static files"
    with open(path, encoding="utf-8") as css:
        return css.read()


def pack_html(pack: Pack, *, for_pdf: bool = False, links: dict[str, str] | None = None) -> str:
    """The pack as one HTML page; `links` are the staff's screen-only links (not printed)."""
    context = {
        "pack": pack,
        "call": pack.call,
        "for_pdf": for_pdf,
        "links": links or {},
        "organisation_name": settings.ORGANISATION_NAME,
    }
    return render_to_string("submissions/pack.html", context)


@dataclass
class RenderedPdf:
    data: bytes
    pages: int


def render_pdf(pack: Pack) -> RenderedPdf:
    """The pack as a PDF, with its number of pages. WeasyPrint fetches nothing: no
    contributor's address is ever loaded (links are printed, not followed) and the stylesheet
    is given, not fetched. Minutes for a big pack: the task worker makes it (pack_file.py)."""
    from weasyprint import CSS, HTML  # imported here: loading Pango costs every process ~0.3 s
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"})
    document = HTML(string=pack_html(pack, for_pdf=True), url_fetcher=fetcher).render(
        stylesheets=[CSS(string=stylesheet(), url_fetcher=fetcher)]
    )
    pdf = document.write_pdf()
    assert pdf is not None  # write_pdf() without a target returns the bytes
    return RenderedPdf(pdf, len(document.pages))


def pack_pdf(pack: Pack) -> bytes:
    """The pack as a PDF's bytes."""
    return render_pdf(pack).data

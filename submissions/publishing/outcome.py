"""The public outcome page of a call, `/<call>/outcome/`: what was asked, how many contributed
(by theme), what the What Works event learned (the published synthesis notes), the toolkit's
link once a call manager marks it published, and the credits.

It is public once a call manager publishes it (or marks the toolkit published); before that,
and after it is taken down, it is "not found".

Like every public page it names only what the call's latest release holds, never the review
status: the credits are the release's (each linked to its contribution's page), and a note's
"informed by" names only the contributions in that release, as it shows them; the rest are
counted, not named. A contribution taken down (withdrawn, erased, withheld) leaves the release's
entries in the transaction that takes it down, so it is gone from here at once.
"""

from dataclasses import dataclass

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from ..models import Call, Release, ReleaseEntry, Submission, SynthesisNote, SynthesisPack, Theme
from .credits import sort_key
from .pack import NO_THEME
from .releases import CreditedLine, credited_lines, credits_of, latest_release


@dataclass
class ThemeCount:
    name: str
    count: int


@dataclass
class Learning:
    theme: str
    text: str
    # The contributions of the latest release that informed it, by credit line, as released.
    credited: list[CreditedLine]
    others: int  # the rest of the contributions that informed it (counted, not named)


def contributed(call: Call):
    """Every contribution that counts: submitted and not withdrawn."""
    return Submission.objects.filter(
        call=call, state=Submission.State.SUBMITTED, withdrawal_requested_at__isnull=True
    )


def counts_by_theme(call: Call) -> tuple[int, list[ThemeCount]]:
    """How many contributed, and how many under each theme (by name; "No theme" last)."""
    sent = contributed(call)
    totals = sent.aggregate(
        total=Count("pk", distinct=True),
        unthemed=Count("pk", distinct=True, filter=Q(themes__isnull=True)),
    )
    themes = (
        Theme.objects.filter(submissions__in=sent)
        .annotate(n=Count("submissions", distinct=True))
        .values_list("name", "n")
    )
    counts = sorted((ThemeCount(name, n) for name, n in themes), key=lambda t: sort_key(t.name))
    if totals["unthemed"]:
        counts.append(ThemeCount(NO_THEME, totals["unthemed"]))
    return totals["total"], counts


def learnings(call: Call, release: Release | None) -> list[Learning]:
    """The published notes, in the pack's order of themes, then by name; each naming the
    contributions of `release` that informed it (none without one) and counting the rest."""
    notes = list(
        SynthesisNote.objects.filter(call=call, published=True)
        .exclude(text="")
        .select_related("theme")
        .annotate(
            informing=Count(
                "informed_by",
                filter=Q(
                    informed_by__state=Submission.State.SUBMITTED,
                    informed_by__withdrawal_requested_at__isnull=True,
                ),
            )
        )
    )
    named: dict[int, list[tuple[str, str]]] = {note.pk: [] for note in notes}
    if release is not None and notes:
        # One filter(): the note's join is the one the values read (each entry once per note).
        entries = (
            ReleaseEntry.objects.filter(
                release=release,
                anonymous=False,
                contribution__submission__synthesis_notes__in=list(named),
            )
            .order_by("sort_key", "position")
            .values_list(
                "contribution__submission__synthesis_notes",
                "credit_line",
                "contribution__public_id",
            )
        )
        for note_id, line, public_id in entries:
            named[note_id].append((line, public_id))
    chosen = SynthesisPack.objects.filter(call=call).values_list("theme_order", flat=True)
    order = {theme_id: n for n, theme_id in enumerate(chosen.first() or [])}
    found = []
    for note in sorted(notes, key=lambda n: (order.get(n.theme_id, len(order)), n.theme.name)):
        pairs = named[note.pk]
        others = max(note.informing - len(pairs), 0)
        found.append(Learning(note.theme.name, note.text, credited_lines(pairs), others))
    return found


@require_safe
def outcome(request: HttpRequest, slug: str) -> HttpResponse:
    """submissions/outcome.html."""
    call = get_object_or_404(
        Call.objects.published().filter(outcome_published_at__isnull=False), slug=slug
    )
    total, by_theme = counts_by_theme(call)
    # A call manager who hid the credits hid them here too: no names, no links to the
    # contributions' pages (which are "not found" while hidden).
    release = None if call.credits_hidden else latest_release(call)
    context = {
        "call": call,
        "questions": list(call.questions.all()),
        "total": total,
        "by_theme": by_theme,
        "learnings": learnings(call, release),
        "credits": credits_of(release),
    }
    return render(request, "submissions/outcome.html", context)

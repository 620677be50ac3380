"""The public outcome page of a call, `/<call>/outcome/`: what was asked, how many contributed
(by theme), what the What Works event learned (the published synthesis notes), the toolkit's
link once a call manager marks it published, and the credits.

It is public once a call manager publishes it (or marks the toolkit published); before that,
and after it is taken down, it is "not found".
"""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from ..models import Call, Submission, SynthesisNote, SynthesisPack, Theme
from .credits import CREDIT_COLUMNS, Credits, credits_for, sort_key
from .pack import NO_THEME


@dataclass
class ThemeCount:
    name: str
    count: int


@dataclass
class Learning:
    theme: str
    text: str
    credited: list[str]  # the credit lines of the included contributions that informed it
    others: int  # the rest of the contributions that informed it (not named here)


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


def learnings(call: Call) -> list[Learning]:
    """The published notes, in the pack's order of themes, then by name."""
    included = Submission.objects.included(call).only(*CREDIT_COLUMNS)
    notes = (
        SynthesisNote.objects.filter(call=call, published=True)
        .exclude(text="")
        .select_related("theme")
        .prefetch_related(Prefetch("informed_by", queryset=included, to_attr="credited_by"))
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
    chosen = SynthesisPack.objects.filter(call=call).values_list("theme_order", flat=True)
    order = {theme_id: n for n, theme_id in enumerate(chosen.first() or [])}
    found = []
    for note in sorted(notes, key=lambda n: (order.get(n.theme_id, len(order)), n.theme.name)):
        named = [line for line in (s.credit_line() for s in note.credited_by) if line]
        lines = sorted(set(named), key=sort_key)
        found.append(Learning(note.theme.name, note.text, lines, note.informing - len(named)))
    return found


@require_safe
def outcome(request: HttpRequest, slug: str) -> HttpResponse:
    """submissions/outcome.html."""
    call = get_object_or_404(
        Call.objects.published().filter(outcome_published_at__isnull=False), slug=slug
    )
    total, by_theme = counts_by_theme(call)
    context = {
        "call": call,
        "questions": list(call.questions.all()),
        "total": total,
        "by_theme": by_theme,
        "learnings": learnings(call),
        # A call manager who hid the credits hid them here too.
        "credits": Credits([], 0) if call.credits_hidden else credits_for(call),
    }
    return render(request, "submissions/outcome.html", context)

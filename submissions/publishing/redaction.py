"""A contribution's public text: its answers and links with every redaction applied.

The one place redactions are applied: the release's files, the contribution's page and the
admin's preview all read it, so the words a call manager redacted appear in none of them.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..models import Redaction


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    wording: str


def spans(text: str, redactions: Iterable[Redaction]) -> list[Span]:
    """Where each redaction falls in `text`, overlaps merged (the first's wording kept)."""
    found: list[Span] = []
    for redaction in redactions:
        if not redaction.text:
            return [Span(0, len(text), redaction.public_wording)] if text else []
        pattern = re.compile(re.escape(redaction.text), re.IGNORECASE)
        found += [
            Span(m.start(), m.end(), redaction.public_wording) for m in pattern.finditer(text)
        ]
    merged: list[Span] = []
    for span in sorted(found, key=lambda s: (s.start, -s.end)):
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, span.end), last.wording)
        else:
            merged.append(span)
    return merged


def redact(text: str, redactions: Iterable[Redaction]) -> str:
    """The text with each redacted span replaced by its public wording."""
    parts, at = [], 0
    for span in spans(text, redactions):
        parts += [text[at : span.start], span.wording]
        at = span.end
    parts.append(text[at:])
    return "".join(parts)


def by_part(redactions: Iterable[Redaction]) -> dict[str, list[Redaction]]:
    grouped: dict[str, list[Redaction]] = {}
    for redaction in redactions:
        grouped.setdefault(redaction.part, []).append(redaction)
    return grouped


def public_answer(question_id: int, answer: str, grouped: dict[str, list[Redaction]]) -> str:
    return redact(answer, grouped.get(Redaction.answer_part(question_id), ()))


def public_links(links: list[str], grouped: dict[str, list[Redaction]]) -> list[str]:
    return [redact(link, grouped.get(Redaction.link_part(n), ())) for n, link in enumerate(links)]

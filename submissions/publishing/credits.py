"""Who is credited for a call: the public credits page, the open data and the toolkit's
acknowledgements all read this one list, and every credit line comes from
Submission.credit_line().
"""

import re
import unicodedata
from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse

from ..common.site import absolute
from ..models import Call, Submission

# Contributors' words are plain text: in Markdown each of these could start a link, emphasis,
# raw HTML or an entity, so each is escaped with a backslash (CommonMark allows it before any
# ASCII punctuation).
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-!|~&])")


# The columns Submission.credit_line() reads. Whoever changes credit_line() changes this too;
# the pinned query counts in tests/test_credits.py fail if a column is missing (one query a row).
# Loading only these keeps the credits of 5,000 contributions to a fraction of a second: a full
# row costs ten times as much to turn into an instance (its dates above all).
CREDIT_COLUMNS = ["name", "organisation", "credit_preference", "co_contributors"]


def credited(call: Call, *also: str) -> QuerySet[Submission]:
    """The included submissions, with the columns of their credit lines (and `also`)."""
    return Submission.objects.included(call).only(*CREDIT_COLUMNS, *also).order_by()


def sort_key(line: str) -> str:
    """By name, ignoring case and accents: "Émile" between "Eleanor" and "Fatima"."""
    if line.isascii():
        return line.casefold()
    decomposed = unicodedata.normalize("NFKD", line)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass
class Credits:
    lines: list[str]  # distinct, sorted by name
    unnamed: int  # included contributions whose contributor asked not to be named

    def __bool__(self) -> bool:
        return bool(self.lines or self.unnamed)

    @property
    def unnamed_phrase(self) -> str:
        if not self.unnamed:
            return ""
        people = "contributor who" if self.unnamed == 1 else "contributors who"
        return f"{self.unnamed} {people} asked not to be named"


def credits_for(call: Call) -> Credits:
    return credit_list(credited(call).iterator(chunk_size=2000))


def credit_list(submissions) -> Credits:
    """Each credit line once (one person may send several contributions), sorted by name."""
    lines: set[str] = set()
    unnamed = 0
    for submission in submissions:
        line = submission.credit_line()
        if line:
            lines.add(line)
        else:
            unnamed += 1
    return Credits(sorted(lines, key=sort_key), unnamed)


def attribution(call: Call) -> str:
    """How to credit the toolkit and its open data."""
    return (
        f"“{call.title}”, by its contributors "
        f"({absolute(reverse('credits', args=[call.slug]))}), "
        f"licensed under {call.licence_name} ({call.licence_id}): {call.licence_url}"
    )


def markdown_text(text: str) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def acknowledgements_plain(call: Call, credits: Credits) -> str:
    lines = [f"With thanks to the contributors to “{call.title}”:", "", *credits.lines]
    if credits.unnamed:
        lines += ["", f"and {credits.unnamed_phrase}."]
    return "\n".join(lines) + "\n"


def acknowledgements_markdown(call: Call, credits: Credits) -> str:
    lines = [f"With thanks to the contributors to “{markdown_text(call.title)}”:", ""]
    lines += [f"- {markdown_text(line)}" for line in credits.lines]
    if credits.unnamed:
        lines += ["", f"and {credits.unnamed_phrase}."]
    return "\n".join(lines) + "\n"

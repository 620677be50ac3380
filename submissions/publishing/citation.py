"""How to cite a published contribution: plain text, BibTeX and CSL-JSON, from what its
release shows (the credit line's people or organisation, the release it first appeared in).

Names are kept as written ("literal" in CSL, braced in BibTeX): splitting "Nic Giolla Phádraig"
into given and family names would get it wrong.
"""

import re

from django.conf import settings
from django.urls import reverse

from ..common.site import absolute
from ..common.wording import LONDON
from ..models import Call, PublicContribution, ReleaseEntry

ANONYMOUS = "Anonymous contributor"
# BibTeX's special characters, each with what stands for it inside a braced value.
BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "^": r"\^{}",
    "~": r"\~{}",
}
BIBTEX_RE = re.compile("|".join(re.escape(c) for c in BIBTEX_SPECIAL))


def authors(entry: ReleaseEntry) -> list[str]:
    return list(entry.authors) or [ANONYMOUS]


def in_words(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def page_url(call: Call, contribution: PublicContribution) -> str:
    return absolute(reverse("contribution", args=[call.slug, contribution.public_id]))


def title(call: Call, contribution: PublicContribution) -> str:
    return f"Contribution {contribution.public_id} to the call for evidence “{call.title}”"


def citation_text(call: Call, contribution: PublicContribution, entry: ReleaseEntry) -> str:
    """One line to paste into a reference list."""
    first = contribution.first_release
    day = first.published_at.astimezone(LONDON)
    return (
        f"{in_words(authors(entry))} ({day.year}). {title(call, contribution)}, release "
        f"{first.number}, {day.day} {day:%B %Y}. {settings.ORGANISATION_NAME}. "
        f"{page_url(call, contribution)}. Licence: {call.licence_id}."
    )


def bibtex_value(text: str) -> str:
    return BIBTEX_RE.sub(lambda m: BIBTEX_SPECIAL[m.group()], " ".join(text.split()))


def bibtex(call: Call, contribution: PublicContribution, entry: ReleaseEntry) -> str:
    first = contribution.first_release
    day = first.published_at.astimezone(LONDON)
    people = " and ".join(f"{{{bibtex_value(name)}}}" for name in authors(entry))
    fields = [
        ("author", people),
        ("title", bibtex_value(title(call, contribution))),
        ("howpublished", f"Release {first.number}"),
        ("publisher", bibtex_value(settings.ORGANISATION_NAME)),
        ("year", str(day.year)),
        ("month", day.strftime("%b").lower()),
        ("date", day.date().isoformat()),
        ("url", page_url(call, contribution)),
        ("note", bibtex_value(f"Licence: {call.licence_name} ({call.licence_id})")),
    ]
    body = ",\n".join(
        f"  {name} = {value}" if name == "month" else f"  {name} = {{{value}}}"
        for name, value in fields
    )
    return f"@misc{{cfe-{contribution.public_id},\n{body}\n}}\n"


def csl_json(call: Call, contribution: PublicContribution, entry: ReleaseEntry) -> list[dict]:
    first = contribution.first_release
    day = first.published_at.astimezone(LONDON)
    return [
        {
            "id": contribution.public_id,
            "type": "document",
            "genre": "Contribution to a call for evidence",
            "title": title(call, contribution),
            "author": [{"literal": name} for name in authors(entry)],
            "issued": {"date-parts": [[day.year, day.month, day.day]]},
            "publisher": settings.ORGANISATION_NAME,
            "version": str(first.number),
            "URL": page_url(call, contribution),
            "license": call.licence_id,
        }
    ]

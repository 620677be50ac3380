"""The contributor's journey, page by page: the one definition the tests and benchmarks walk.

The locustfile (over HTTP, under load), profile_journey.py (in-process, through Django's test
client), bench_upload.py (with requests, up to the files step) and the tests (tests/contributor.py)
each bring their own `get` and `post`; what a contributor sends, and what each page must answer,
is written here once.
Plain Python with no Django import, so that locust can load it.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

CALL = "what-works-social-media"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ANSWER_FIELD = re.compile(r'name="(answer_\d+)"')
REFERENCE = re.compile(r'<p class="reference[^"]*">([A-Z0-9]{8})</p>')

ABOUT = {
    "name": "Jane Smith",
    "email": "jane.smith@example.ac.uk",
    "role": "Senior Lecturer",
    "organisation": "University of Bristol",
    "orcid": "0000-0002-1825-0097",
    "website": "https://www.example.ac.uk/people/jane-smith",
    "credit_preference": "name_and_organisation",
}
ANSWER = "We ran a Twitter chat with patients.\r\nIt worked well."
# The second link is plain http: accepted, as contributors' older sites still use it.
LINKS = "https://example.org/report\nhttp://example.org/slides"


class JourneyFailed(Exception):
    """A page answered with something a contributor would not expect; the journey stops."""


def evidence_form(page: str) -> dict[str, str]:
    """The first question answered, the others left empty, two links."""
    fields = ANSWER_FIELD.findall(page)
    if not fields:
        raise JourneyFailed("no answer fields on the evidence page")
    return {**dict.fromkeys(fields, ""), fields[0]: ANSWER, "links": LINKS}


@dataclass(frozen=True)
class Step:
    """A page: GET it (which must contain `expect`), then POST its form, if it has one, which
    must redirect to a URL containing `then` (POST/redirect/GET)."""

    name: str
    path: str
    form: Callable[[str], dict[str, str]] | None = None
    then: str = ""
    expect: str | re.Pattern | None = None


STEPS = [
    # "Continue your evidence" instead once a draft exists (the tests walk on from one).
    Step("start", "", expect=re.compile("Start now|Continue your evidence")),
    Step("licence", "licence/", lambda page: {"consent": "yes"}, then="about-you/"),
    Step("about-you", "about-you/", lambda page: ABOUT, then="evidence/"),
    Step("evidence", "evidence/", evidence_form, then="files/"),
    # The optional files step: continue without adding any.
    Step("files", "files/", lambda page: {"action": "continue"}, then="check-"),
    Step("check-your-answers", "check-your-answers/", lambda page: {}, then="submitted/"),
    Step("submitted", "submitted/", expect=REFERENCE),
]
# The request names, in the order a journey makes them: "GET start", "POST licence", ...
PAGES = [
    f"{method} {step.name}"
    for step in STEPS
    for method in (["GET", "POST"] if step.form else ["GET"])
]


def csrf_token(page: str) -> str:
    match = CSRF_INPUT.search(page)
    if not match:
        raise JourneyFailed("no CSRF token in the form")
    return match.group(1)


def found(expect: str | re.Pattern | None, page: str) -> bool:
    if expect is None:
        return True
    return bool(expect.search(page)) if isinstance(expect, re.Pattern) else expect in page


Get = Callable[[str, Step], str]  # (path, step) -> the page's HTML; raises on a bad answer
Post = Callable[[str, Step, dict[str, str]], None]  # (path, step, data); raises unless redirected


def walk(get: Get, post: Post, until: str | None = None, call: str = CALL) -> None:
    """Walk the journey from the start, or up to (not including) the step named `until`."""
    for step in STEPS:
        if step.name == until:
            return
        path = f"/{call}/{step.path}"
        page = get(path, step)
        if step.form is not None:
            post(path, step, {**step.form(page), "csrfmiddlewaretoken": csrf_token(page)})

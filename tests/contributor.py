"""The contributor's journey through the test client: journey_steps.py's steps, with assertions.

What a contributor sends and what each page must answer is defined once, in journey_steps.py,
for the benchmarks and the tests alike; here are the tests' short names for the pages.
"""

from django.test import Client

from submissions.models import Call

from .journey_steps import ABOUT, ANSWER, LINKS, STEPS, Step, found, walk

__all__ = ["ABOUT", "evidence_data", "url", "walk_to"]

# The tests' names for the journey's pages (tests/journey_steps.py's step names), and pages off it.
STEP_NAMES = {
    "start": "start",
    "consent": "licence",
    "about": "about-you",
    "evidence": "evidence",
    "files": "files",
    "check": "check-your-answers",
    "confirmation": "submitted",
}
PATHS = {
    **{short: next(s.path for s in STEPS if s.name == name) for short, name in STEP_NAMES.items()},
    "declined": "licence/declined/",
    "closed": "closed/",
}


def url(call: Call, step: str) -> str:
    return f"/{call.slug}/{PATHS[step]}"


def evidence_data(call: Call, **overrides) -> dict[str, str]:
    """The evidence form as the journey fills it (the first question answered), with changes."""
    data = {f"answer_{pk}": "" for pk in call.questions.values_list("pk", flat=True)}
    data[next(iter(data))] = ANSWER
    return {**data, "links": LINKS, **overrides}


def walk_to(client: Client, call: Call, step: str) -> None:
    """Complete every step before `step` as a contributor does: open each page, send its form."""

    def get(path: str, journey_step: Step) -> str:
        response = client.get(path)
        page = response.content.decode()
        assert response.status_code == 200, page[:2000]
        assert found(journey_step.expect, page), f"{path} lacks {journey_step.expect!r}"
        return page

    def post(path: str, journey_step: Step, data: dict[str, str]) -> None:
        response = client.post(path, data)
        assert response.status_code == 302, response.content.decode()[:2000]
        assert journey_step.then in response["Location"], response["Location"]

    walk(get, post, until=STEP_NAMES[step], call=call.slug)

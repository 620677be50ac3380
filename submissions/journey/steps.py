"""The steps of the contributor's journey and which of them a draft has finished."""

from collections.abc import Callable
from dataclasses import dataclass

from ..models import Submission


@dataclass(frozen=True)
class Step:
    url_name: str
    title: str
    is_done: Callable[[Submission], bool]


def _about_done(s: Submission) -> bool:
    # Organisation is optional: independent researchers have none.
    return bool(s.name and s.email and s.role and s.credit_preference)


STEPS: tuple[Step, ...] = (
    Step("consent", "Licence", lambda s: s.consent_given_at is not None),
    Step("about", "About you", _about_done),
    Step("evidence", "Your evidence", lambda s: any(a.strip() for a in s.answers.values())),
    # Files are optional: the step is finished as soon as it may be visited.
    Step("files", "Your files", lambda s: True),
    Step("check", "Check your answers", lambda s: s.is_submitted),
)
STEP_NUMBERS = {step.url_name: number for number, step in enumerate(STEPS, start=1)}


def first_unfinished(submission: Submission | None) -> Step:
    if submission is None:
        return STEPS[0]
    return next((step for step in STEPS if not step.is_done(submission)), STEPS[-1])


def may_visit(submission: Submission | None, url_name: str) -> bool:
    """A step may be visited once every step before it is finished."""
    return STEP_NUMBERS[url_name] <= STEP_NUMBERS[first_unfinished(submission).url_name]


def previous_step(url_name: str) -> str | None:
    number = STEP_NUMBERS[url_name]
    return STEPS[number - 2].url_name if number > 1 else None

"""Small factory functions for test data (no JSON fixtures)."""

from datetime import datetime
from itertools import count
from zoneinfo import ZoneInfo

from django.utils import timezone

from submissions.models import Call, Question, Submission, new_reference

LONDON = ZoneInfo("Europe/London")
_seq = count(1)


def make_call(questions: int = 2, **fields) -> Call:
    n = next(_seq)
    values = {
        "slug": f"call-{n}",
        "title": f"Test call {n}",
        "summary": "A summary of the call.",
        "opens_at": datetime(2018, 1, 1, tzinfo=LONDON),
        "closes_at": datetime(2030, 3, 6, 23, 59, tzinfo=LONDON),
        "late_policy": Call.LatePolicy.REFUSE,
        "consent_wording": "Are you happy to share under CC BY-NC 4.0?",
        "contact_email": "contact@example.org",
        "published": True,
    }
    values.update(fields)
    call = Call.objects.create(**values)
    for position in range(1, questions + 1):
        Question.objects.create(
            call=call,
            position=position,
            short_title=f"Question {position}",
            text=f"What is your answer to question {position}?",
            max_length=500,
        )
    return call


def make_submission(call: Call, **fields) -> Submission:
    """A submitted submission with complete details; pass state=DRAFT for a draft."""
    n = next(_seq)
    questions = list(call.questions.all())
    values = {
        "call": call,
        "state": Submission.State.SUBMITTED,
        "reference": new_reference(),
        "submitted_at": timezone.now(),
        "name": f"Contributor {n}",
        "email": f"contributor{n}@example.org",
        "role": "Lecturer",
        "organisation": "University of Somewhere",
        "credit_preference": Submission.Credit.NAME_AND_ORGANISATION,
        "answers": {str(q.pk): f"Answer {n} to {q.short_title}" for q in questions},
        "links": ["https://example.org/report"],
        "consent_licence_id": call.licence_id,
        "consent_licence_version": call.licence_version,
        "consent_wording_version": call.consent_version,
        "consent_wording_sha256": call.consent_hash,
        "consent_given_at": timezone.now(),
    }
    values.update(fields)
    if values["state"] == Submission.State.DRAFT:
        values["reference"] = None
        values["submitted_at"] = None
    return Submission.objects.create(**values)

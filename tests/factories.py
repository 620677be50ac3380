"""Test data from small factory functions (no JSON fixtures), and the suite's named users.

The named users have one role each, in every test file:

    alice  a reviewer (the "Reviewers" group)
    bob    a call manager (the "Call managers" group)
    carol  a superuser
    dave   staff, in neither group
    erin   an account without staff status

Anyone else a test needs gets a name of its own through make_user().
"""

import hashlib
from datetime import datetime
from itertools import count
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group, Permission, User
from django.core.files.base import ContentFile
from django.utils import timezone

from submissions.models import (
    Attachment,
    Call,
    CallReviewer,
    Question,
    Submission,
    new_reference,
)

LONDON = ZoneInfo("Europe/London")
PASSWORD = "correct horse"
_seq = count(1)

REVIEWERS = "Reviewers"
CALL_MANAGERS = "Call managers"
# username: the role helper that alone may make that user.
NAMED_USERS = {
    "alice": "make_reviewer",
    "bob": "make_call_manager",
    "carol": "make_superuser",
    "dave": "make_staff_without_group",
    "erin": "make_user_without_staff_status",
}


def make_call(questions: int = 2, **fields) -> Call:
    """A published call with all a call must say to be published (Call.REQUIRED_TO_PUBLISH)."""
    n = next(_seq)
    values = {
        "slug": f"call-{n}",
        "title": f"Test call {n}",
        "summary_heading": "Why we are asking",
        "summary": "A summary of the call.",
        "licence_summary": "People may share and adapt it, not commercially.",
        "credit_promise": "We credit everyone whose evidence is included.",
        "privacy_notice": "We use your details only to credit you.",
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


def make_attachment(
    submission: Submission | None = None, *, content: bytes | None = None, **fields
) -> Attachment:
    """An attachment of `submission` (a new one if None).

    With `content`, the bytes are stored and size and SHA-256 are theirs; without, only the row
    is written and its file name points at storage holding nothing.
    """
    n = next(_seq)
    if submission is None:
        submission = make_submission(make_call())
    values = {
        "submission": submission,
        "original_name": f"report-{n}.pdf",
        "size": 123_456 if content is None else len(content),
        "content_type": "application/pdf",
        # Unique per attachment: the same file twice on one submission is refused.
        "sha256": hashlib.sha256(content if content is not None else b"%d" % n).hexdigest(),
    }
    values.update(fields)
    if content is None:
        values.setdefault("file", f"attachments/{n:032x}")
        return Attachment.objects.create(**values)
    attachment = Attachment(**values)
    attachment.file.save("upload", ContentFile(content), save=True)
    return attachment


# Users.


def _user(username: str, helper: str, **fields) -> User:
    role_of_name = NAMED_USERS.get(username)
    if role_of_name is not None and role_of_name != helper:
        raise ValueError(f"{username} is made only by {role_of_name}(): each name has one role")
    fields.setdefault("email", f"{username}@example.org")
    return User.objects.create_user(username=username, password=PASSWORD, **fields)


def make_user(
    username: str,
    *,
    staff: bool = False,
    groups: tuple[str, ...] = (),
    perms: tuple[str, ...] = (),
    **fields,
) -> User:
    """A user with exactly these groups and permissions; not one of the named users."""
    user = _user(username, "make_user", is_staff=staff, **fields)
    if groups:
        user.groups.set(Group.objects.filter(name__in=groups))
    if perms:
        user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    return user


def _in_group(username: str, helper: str, group: str, **fields) -> User:
    user = _user(username, helper, is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=group))
    return user


def make_reviewer(username: str = "alice", every_call: bool = False, **fields) -> User:
    """A reviewer: reads submissions, changes only the review fields, may not export.

    A reviewer sees only the calls they are assigned to (`assign`); `every_call` gives the
    "review every call" permission instead, for tests of what the review pages show rather
    than of whose calls they show (tests/test_admin_calls_apart.py).
    """
    user = _in_group(username, "make_reviewer", REVIEWERS, **fields)
    if every_call:
        user.user_permissions.add(Permission.objects.get(codename="review_every_call"))
    return user


def assign(reviewer: User, *calls: Call) -> None:
    """Give a reviewer these calls, as a call manager does on the call's page."""
    CallReviewer.objects.bulk_create(CallReviewer(call=call, reviewer=reviewer) for call in calls)


def make_call_manager(username: str = "bob", **fields) -> User:
    """A call manager: all a reviewer may do, and run calls, export and erase."""
    return _in_group(username, "make_call_manager", CALL_MANAGERS, **fields)


def make_superuser(username: str = "carol", **fields) -> User:
    user = _user(username, "make_superuser", is_staff=True, is_superuser=True, **fields)
    return user


def make_staff_without_group(username: str = "dave", **fields) -> User:
    """Staff status and nothing else: the admin lets them in and shows them nothing."""
    return _user(username, "make_staff_without_group", is_staff=True, **fields)


def make_user_without_staff_status(username: str = "erin", **fields) -> User:
    return _user(username, "make_user_without_staff_status", **fields)

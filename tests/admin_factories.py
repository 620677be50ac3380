"""Staff users in their roles, and attachments, for the admin tests."""

from itertools import count

from django.contrib.auth.models import Group, Permission, User

from submissions.models import Attachment, Call, CallReviewer, Submission

_seq = count(1)


def make_staff(
    group: str | None, username: str | None = None, every_call: bool = False, **fields
) -> User:
    """A staff user in one of the groups the migration made ("Reviewers", "Call managers").

    `every_call` gives a reviewer the "review every call" permission, for tests of what the
    review pages show rather than of whose calls they show (tests/test_admin_calls_apart.py).
    """
    username = username or f"staff{next(_seq)}"
    user = User.objects.create_user(
        username=username, password="correct horse", is_staff=True, **fields
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    if every_call:
        user.user_permissions.add(Permission.objects.get(codename="review_every_call"))
    return user


def make_reviewer(username: str = "alice", every_call: bool = False, **fields) -> User:
    return make_staff("Reviewers", username, every_call=every_call, **fields)


def assign(reviewer: User, *calls: Call) -> None:
    """Give a reviewer these calls, as a call manager does on the call's page."""
    CallReviewer.objects.bulk_create(CallReviewer(call=call, reviewer=reviewer) for call in calls)


def make_call_manager(username: str = "bob", **fields) -> User:
    return make_staff("Call managers", username, **fields)


def make_attachment(submission: Submission, **fields) -> Attachment:
    """An attachment row; its file name points at storage but no bytes are written."""
    n = next(_seq)
    values = {
        "submission": submission,
        "file": f"attachments/{n:032x}",
        "original_name": f"report-{n}.pdf",
        "size": 123_456,
        "content_type": "application/pdf",
        "sha256": f"{n:064x}",
    }
    values.update(fields)
    return Attachment.objects.create(**values)

"""Staff users in their roles, and attachments, for the admin tests."""

from itertools import count

from django.contrib.auth.models import Group, User

from submissions.models import Attachment, Submission

_seq = count(1)


def make_staff(group: str | None, username: str | None = None, **fields) -> User:
    """A staff user in one of the groups the migration made ("Reviewers", "Call managers")."""
    username = username or f"staff{next(_seq)}"
    user = User.objects.create_user(
        username=username, password="correct horse", is_staff=True, **fields
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def make_reviewer(username: str = "alice", **fields) -> User:
    return make_staff("Reviewers", username, **fields)


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

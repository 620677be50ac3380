"""No record points at a missing file, and no file is left without a record for long."""

import os
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from submissions.common.storage import get_attachment_storage
from submissions.journey.file_checks import check_upload
from submissions.models import Attachment, AttachmentLimitReached, Submission

from .. import samples
from ..contributor import url
from ..factories import make_call, make_submission
from ..files import draft_at_files_step, upload

pytestmark = pytest.mark.django_db


def checked(name: str, content: bytes):
    return check_upload(SimpleUploadedFile(name, content), max_size=10 * 1024 * 1024)


def stored_files(root) -> list[str]:
    folder = root / "attachments"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def sweep(*args: str) -> str:
    out = StringIO()
    call_command("sweep_files", *args, stdout=out)
    return out.getvalue()


def test_files_stored_before_a_failed_insert_are_removed(attachments_root):
    draft = make_submission(make_call(), state=Submission.State.DRAFT)
    # The same bytes twice: the second row breaks the unique constraint after both are stored.
    with pytest.raises(IntegrityError):
        draft.add_files([checked("a.pdf", samples.PDF), checked("b.pdf", samples.PDF)])
    assert not Attachment.objects.exists()
    assert stored_files(attachments_root) == []


def test_nothing_is_stored_past_the_calls_file_limit(attachments_root):
    draft = make_submission(make_call(max_files=1), state=Submission.State.DRAFT)
    with pytest.raises(AttachmentLimitReached):
        draft.add_files([checked("a.pdf", samples.PDF), checked("b.txt", samples.TXT)])
    assert stored_files(attachments_root) == []


def test_a_delete_that_rolls_back_keeps_the_file(
    attachments_root, django_capture_on_commit_callbacks
):
    draft = make_submission(make_call(), state=Submission.State.DRAFT)
    (attachment,) = draft.add_files([checked("a.pdf", samples.PDF)])
    pk = attachment.pk
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        attachment.delete()
        raise RuntimeError("something later in the transaction failed")
    assert callbacks == []
    assert Attachment.objects.filter(pk=pk).exists()
    assert get_attachment_storage().open(attachment.file.name).read() == samples.PDF


def test_a_committed_delete_removes_the_file_afterwards(
    attachments_root, django_capture_on_commit_callbacks
):
    draft = make_submission(make_call(), state=Submission.State.DRAFT)
    (attachment,) = draft.add_files([checked("a.pdf", samples.PDF)])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        attachment.delete()
    assert stored_files(attachments_root) != []  # still there until the commit
    for callback in callbacks:
        callback()
    assert stored_files(attachments_root) == []


def test_declining_the_licence_deletes_the_draft_and_its_files(
    client, seeded_call, attachments_root, django_capture_on_commit_callbacks
):
    draft_at_files_step(client, seeded_call)
    upload(client, seeded_call, [("a.pdf", samples.PDF), ("b.png", samples.png())])
    assert len(stored_files(attachments_root)) == 2
    client.post(url(seeded_call, "consent"), {"consent": "no"})
    assert len(stored_files(attachments_root)) == 2  # kept until the person confirms
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(seeded_call, "consent") + "delete-answers/")
    assert not Submission.objects.exists()
    assert stored_files(attachments_root) == []


def test_a_submitted_submission_keeps_its_files(
    client, seeded_call, attachments_root, django_capture_on_commit_callbacks
):
    draft_at_files_step(client, seeded_call)
    upload(client, seeded_call, [("a.pdf", samples.PDF)], action="continue")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(seeded_call, "check"))
    submission = Submission.objects.get()
    assert submission.is_submitted
    for attachment in submission.attachments.all():
        assert get_attachment_storage().exists(attachment.file.name)


def test_sweep_lists_and_then_deletes_files_no_record_points_to(attachments_root):
    draft = make_submission(make_call(), state=Submission.State.DRAFT)
    (kept,) = draft.add_files([checked("a.pdf", samples.PDF)])
    storage = get_attachment_storage()
    old = storage.save(
        "attachments/0123456789abcdef0123456789abcdef", SimpleUploadedFile("x", b"x")
    )
    young = storage.save(
        "attachments/fedcba9876543210fedcba9876543210", SimpleUploadedFile("y", b"y")
    )
    two_hours_ago = time.time() - 7200
    os.utime(attachments_root / old, (two_hours_ago, two_hours_ago))

    listing = sweep()
    assert f"orphan {old} (1 bytes)" in listing
    assert young not in listing  # it may belong to an upload that has not committed yet
    assert kept.file.name not in listing
    assert "Found 1 orphaned files." in listing
    assert storage.exists(old)

    assert "Deleted 1 orphaned files" in sweep("--delete")
    assert not storage.exists(old)
    assert storage.exists(young)
    assert storage.exists(kept.file.name)


def test_sweep_files_leaves_a_drafts_files_to_the_drafts_own_retention(
    attachments_root, django_capture_on_commit_callbacks
):
    """One retention policy: a draft's files go with the draft (sweep_drafts), never before it.

    Until issue 18, sweep_files deleted the files of any draft untouched for 30 days, while the
    call (open until 2030 here) still kept the draft itself and its contributor could return.
    """
    call = make_call()  # closes in 2030: drafts are kept until 30 days after that
    draft = make_submission(call, state=Submission.State.DRAFT)
    draft.add_files([checked("a.pdf", samples.PDF)])
    long_ago = timezone.now() - timedelta(days=400)
    Submission.objects.filter(pk=draft.pk).update(updated_at=long_ago)

    with django_capture_on_commit_callbacks(execute=True):
        assert "Deleted 0 orphaned files." in sweep("--delete")
        call_command("sweep_drafts", stdout=StringIO())
    assert draft.attachments.count() == 1
    assert len(stored_files(attachments_root)) == 1

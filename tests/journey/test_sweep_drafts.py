"""`manage.py sweep_drafts`: draft litter goes, with its files; everything else stays."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from submissions.common.storage import get_attachment_storage
from submissions.journey.file_checks import check_upload
from submissions.models import Submission

from .. import samples
from ..factories import make_call, make_submission

pytestmark = pytest.mark.django_db
DRAFT = Submission.State.DRAFT


def sweep(*args: str) -> str:
    out = StringIO()
    call_command("sweep_drafts", *args, stdout=out)
    return out.getvalue()


def saved_ago(submission: Submission, **delta) -> None:
    Submission.objects.filter(pk=submission.pk).update(
        updated_at=timezone.now() - timedelta(**delta)
    )


def test_drafts_without_details_go_after_a_day_and_others_wait_for_the_retention():
    call = make_call()  # closes in 2030
    bare_old = make_submission(call, state=DRAFT, name="", email="", role="", organisation="")
    bare_new = make_submission(call, state=DRAFT, name="", email="", role="", organisation="")
    detailed_old = make_submission(call, state=DRAFT)
    saved_ago(bare_old, hours=25)
    saved_ago(bare_new, hours=23)
    saved_ago(detailed_old, days=400)

    listing = sweep("--dry-run")
    assert f"draft {bare_old.pk} (without details" in listing
    assert "Found 1 expired drafts." in listing
    assert Submission.objects.count() == 3

    assert "Deleted 1 expired drafts" in sweep()
    assert set(Submission.objects.values_list("pk", flat=True)) == {bare_new.pk, detailed_old.pk}


def test_drafts_go_the_calls_retention_after_the_deadline_or_their_last_save():
    closed = make_call(closes_at=timezone.now() - timedelta(days=31))
    recently_closed = make_call(closes_at=timezone.now() - timedelta(days=29))
    kept_longer = make_call(closes_at=timezone.now() - timedelta(days=31), draft_retention_days=60)
    expired = make_submission(closed, state=DRAFT)
    saved_lately = make_submission(closed, state=DRAFT)  # a late-accepting call's live draft
    within = make_submission(recently_closed, state=DRAFT)
    longer = make_submission(kept_longer, state=DRAFT)
    submitted = make_submission(closed)
    for submission in (expired, within, longer, submitted):
        saved_ago(submission, days=40)
    saved_ago(saved_lately, days=3)

    sweep()
    assert set(Submission.objects.values_list("pk", flat=True)) == {
        saved_lately.pk,
        within.pk,
        longer.pk,
        submitted.pk,
    }


def test_a_swept_draft_takes_its_files_with_it(
    attachments_root, django_capture_on_commit_callbacks
):
    call = make_call(closes_at=timezone.now() - timedelta(days=31))
    draft = make_submission(call, state=DRAFT)
    kept = make_submission(call, state=DRAFT)
    for submission in (draft, kept):
        submission.add_files(
            [check_upload(SimpleUploadedFile("a.pdf", samples.PDF), max_size=10**7)]
        )
    kept.submit()  # files are added only to drafts; this one is then sent
    for submission in (draft, kept):
        saved_ago(submission, days=40)
    names = {s.pk: s.attachments.get().file.name for s in (draft, kept)}

    with django_capture_on_commit_callbacks(execute=True):
        assert "Deleted 1 expired drafts and 1 files." in sweep()
    storage = get_attachment_storage()
    assert not storage.exists(names[draft.pk])
    assert storage.exists(names[kept.pk])

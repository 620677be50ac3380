"""The synthesis pack's PDF as a stored file: asked for in a request, made by the task worker
(run here in the test's own thread, as `manage.py db_worker` runs it), kept one per call in the
private storage, and deleted when what it prints may no longer be printed."""

from datetime import timedelta
from io import BytesIO, StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from submissions.common.storage import get_attachment_storage
from submissions.models import (
    DEFAULT_SECONDS_PER_ENTRY,
    Submission,
    SynthesisPack,
    SynthesisPackPdf,
    Theme,
)
from submissions.outbox.queue import queue
from submissions.publishing.pack_file import make_pack_pdf, request_pdf

from ..factories import make_call, make_submission
from ..worker import run_worker

pytestmark = pytest.mark.django_db
INCLUDED = Submission.ReviewStatus.INCLUDED
State = SynthesisPackPdf.State


@pytest.fixture
def themed(seeded_call):
    tools = Theme.objects.create(name="Tools")
    risks = Theme.objects.create(name="Risks")
    people = {}
    for name, themes in [
        ("Ana Tools", [tools]),
        ("Bea Both", [tools, risks]),
        ("Cy Risks", [risks]),
    ]:
        people[name.split()[0].lower()] = submission = make_submission(
            seeded_call, name=name, organisation="University of Bristol", review_status=INCLUDED
        )
        submission.themes.set(themes)
    return seeded_call, tools, risks, people


def text_of(pdf: SynthesisPackPdf) -> str:
    from pypdf import PdfReader

    with pdf.file.storage.open(pdf.file.name, "rb") as stored:
        reader = PdfReader(BytesIO(stored.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def pack_files(root) -> list[str]:
    folder = root / "packs"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def pdf_tasks() -> int:
    return DBTaskResult.objects.filter(task_path__endswith="make_pack_pdf").count()


def test_the_worker_makes_the_pdf_and_keeps_it_in_the_private_storage(themed, attachments_root):
    call, _, _, people = themed

    pdf, started = request_pdf(call, by_name="Bob Smith")

    assert started and pdf.state == State.WAITING and pdf.requested_by_name == "Bob Smith"
    assert pdf.entries == 4  # Bea under both themes
    assert pdf_tasks() == 1
    assert run_worker() == 1
    pdf.refresh_from_db()
    assert pdf.state == State.READY and pdf.ready
    assert pdf.file.name.startswith("packs/") and pdf.file.name.endswith(".pdf")
    assert pack_files(attachments_root) == [pdf.file.name.removeprefix("packs/")]
    assert pdf.size == (attachments_root / pdf.file.name).stat().st_size > 10_000
    assert pdf.pages >= 3  # the cover, then a theme to a page
    assert sorted(pdf.contributions) == sorted(p.pk for p in people.values())
    assert pdf.seconds and pdf.seconds_per_entry == pytest.approx(pdf.seconds / 4)
    assert pdf.started_at <= pdf.finished_at
    text = text_of(pdf)
    for name in ["Ana Tools", "Bea Both", "Cy Risks"]:
        assert f"{name}, University of Bristol" in text
    with pytest.raises(NotImplementedError):
        get_attachment_storage().url(pdf.file.name)  # no public URL, ever


def test_it_is_made_with_the_options_chosen_when_it_was_asked_for(themed):
    call, tools, risks, _ = themed
    SynthesisPack.objects.create(call=call, theme_order=[tools.pk])
    pdf, _ = request_pdf(call, by_name="")
    # Changed after the press, before the worker got to it.
    SynthesisPack.objects.filter(call=call).update(theme_order=[risks.pk])

    run_worker()

    pdf.refresh_from_db()
    text = text_of(pdf)
    assert "Ana Tools" in text and "Cy Risks" not in text
    assert pdf.theme_order == [tools.pk]


def test_pressing_again_while_it_waits_or_is_made_starts_nothing(themed):
    call, *_ = themed
    first, started = request_pdf(call, by_name="Alice")
    again, started_again = request_pdf(call, by_name="Bob", again=True)
    assert started and not started_again
    assert again.job == first.job and again.requested_by_name == "Alice"
    assert SynthesisPackPdf.claim(first.pk, str(first.job))  # the worker takes it

    making, started_now = request_pdf(call, by_name="Bob", again=True)

    assert not started_now and making.state == State.MAKING
    assert pdf_tasks() == 1


def test_download_keeps_an_up_to_date_pdf_and_again_makes_a_new_one(
    themed, attachments_root, django_capture_on_commit_callbacks
):
    call, *_ = themed
    request_pdf(call, by_name="")
    run_worker()
    made = SynthesisPackPdf.objects.get()

    kept, started = request_pdf(call, by_name="")
    assert not started and kept.job == made.job

    with django_capture_on_commit_callbacks(execute=True):
        fresh, started = request_pdf(call, by_name="", again=True)

    assert started and fresh.state == State.WAITING and not fresh.file.name
    assert pack_files(attachments_root) == []  # the old file went once the request committed
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    fresh.refresh_from_db()
    assert pack_files(attachments_root) == [fresh.file.name.removeprefix("packs/")]
    assert fresh.file.name != made.file.name
    assert SynthesisPackPdf.objects.count() == 1


def test_a_pdf_made_from_other_contributions_is_not_kept_by_download(themed):
    call, tools, *_ = themed
    request_pdf(call, by_name="")
    run_worker()
    newcomer = make_submission(call, review_status=INCLUDED)
    newcomer.themes.set([tools])

    pdf, started = request_pdf(call, by_name="")

    assert started and pdf.state == State.WAITING


def test_a_lost_job_may_be_asked_for_again_and_its_late_file_is_dropped(themed):
    call, *_ = themed
    lost, _ = request_pdf(call, by_name="")
    assert SynthesisPackPdf.claim(lost.pk, str(lost.job))
    lost.refresh_from_db()
    assert lost.stalls_at >= lost.started_at + timedelta(minutes=15)

    with time_machine.travel(lost.stalls_at + timedelta(seconds=1)):
        assert lost.stalled()
        pdf, started = request_pdf(call, by_name="Bob")

    assert started and pdf.job != lost.job
    # The lost worker was only slow: its file arrives for a job nobody waits for any more.
    assert (
        lost.store(
            str(lost.job), name="packs/late.pdf", size=1, pages=1, contributions=[], seconds=1
        )
        == "superseded"
    )
    pdf.refresh_from_db()
    assert pdf.state == State.WAITING and not pdf.file.name


def test_a_stale_task_finds_nothing_to_do(themed):
    call, *_ = themed
    old, _ = request_pdf(call, by_name="")
    SynthesisPackPdf.objects.filter(pk=old.pk).update(state=State.FAILED)
    request_pdf(call, by_name="", again=True)

    assert make_pack_pdf.call(old.pk, str(old.job)) == "not due"


def test_a_failure_is_recorded_with_what_happened(themed, settings, tmp_path):
    call, *_ = themed
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the storage expects a folder")
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "submissions.common.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(blocked)},
        },
    }
    request_pdf(call, by_name="")

    run_worker()

    pdf = SynthesisPackPdf.objects.get()
    assert pdf.state == State.FAILED and not pdf.file.name
    assert pdf.problem.startswith(("NotADirectoryError", "FileExistsError")), pdf.problem
    assert pdf.finished_at is not None


def test_the_pdf_is_made_on_its_own_queue_never_the_emails(themed):
    call, *_ = themed
    request_pdf(call, by_name="")
    queue("receipt", ["ana@example.org"], call, Submission.objects.first())

    queues = dict(DBTaskResult.objects.values_list("task_path", "queue_name"))

    assert queues == {
        "submissions.publishing.pack_file.make_pack_pdf": "documents",
        "submissions.outbox.queue.deliver_email": "default",
    }


def test_an_email_waiting_when_a_pdf_is_asked_for_is_sent_first(themed):
    call, *_ = themed
    request_pdf(call, by_name="")
    queue("receipt", ["ana@example.org"], call, Submission.objects.first())

    first = DBTaskResult.objects.ready().first()

    assert first is not None and first.task_path.endswith("deliver_email")


@pytest.mark.parametrize("how", ["withdrawn", "erased"])
def test_a_pdf_printing_a_contribution_withdrawn_or_erased_is_deleted(
    themed, attachments_root, django_capture_on_commit_callbacks, how
):
    call, _, _, people = themed
    request_pdf(call, by_name="")
    run_worker()
    other = make_submission(make_call(), review_status=INCLUDED)
    other.request_withdrawal()  # another call's: this PDF stays
    assert SynthesisPackPdf.objects.get().state == State.READY

    with django_capture_on_commit_callbacks(execute=True):
        if how == "withdrawn":
            people["ana"].request_withdrawal()
        else:
            people["ana"].erase()

    pdf = SynthesisPackPdf.objects.get()
    assert pdf.state == State.DELETED and not pdf.file.name and pdf.contributions == []
    assert how in pdf.problem
    assert pack_files(attachments_root) == []


def test_a_file_printing_one_withdrawn_while_it_was_made_is_not_kept(themed):
    call, _, _, people = themed
    pdf, _ = request_pdf(call, by_name="")
    assert SynthesisPackPdf.claim(pdf.pk, str(pdf.job))
    people["bea"].request_withdrawal()

    outcome = pdf.store(
        str(pdf.job),
        name="packs/x.pdf",
        size=1,
        pages=1,
        contributions=[p.pk for p in people.values()],
        seconds=1,
    )

    assert outcome == "changed"
    assert SynthesisPackPdf.objects.get().state == State.MAKING
    # The task makes it again, without her.
    SynthesisPackPdf.objects.filter(pk=pdf.pk).update(state=State.WAITING)
    run_worker()
    pdf.refresh_from_db()
    assert pdf.state == State.READY and people["bea"].pk not in pdf.contributions
    assert "Bea Both" not in text_of(pdf)


def test_sweep_files_removes_a_pack_file_no_record_points_to(themed, attachments_root):
    call, *_ = themed
    request_pdf(call, by_name="")
    run_worker()
    current = SynthesisPackPdf.objects.get().file.name
    lost = get_attachment_storage().save("packs/left-by-a-dead-worker.pdf", BytesIO(b"%PDF-1.7"))
    out = StringIO()

    call_command("sweep_files", "--grace-minutes", "0", "--delete", stdout=out)

    assert f"orphan {lost}" in out.getvalue()
    assert pack_files(attachments_root) == [current.removeprefix("packs/")]


def test_a_deleted_call_takes_its_pdf_with_it(attachments_root, django_capture_on_commit_callbacks):
    call = make_call()  # a call with submissions cannot be deleted; one without may
    request_pdf(call, by_name="")
    run_worker()
    assert len(pack_files(attachments_root)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        call.delete()

    assert pack_files(attachments_root) == []


def test_the_estimate_follows_the_last_pdf_of_the_call(themed):
    call, *_ = themed
    pdf, _ = request_pdf(call, by_name="")
    assert pdf.seconds_per_entry is None and pdf.estimate == pytest.approx(
        4 * DEFAULT_SECONDS_PER_ENTRY
    )
    run_worker()
    pdf.refresh_from_db()
    rate = pdf.seconds_per_entry

    again, _ = request_pdf(call, by_name="", again=True)

    assert again.seconds_per_entry == rate and again.estimate == pytest.approx(4 * rate)
    assert timezone.now() < again.stalls_at

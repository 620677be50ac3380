"""`manage.py db_worker` itself, as its own process, delivers what a request queued; the
emails' worker (queue "default") sends while a long job (a synthesis pack's PDF, a big
release) waits for its own (queue "documents"), as `make run` and production run them.

PostgreSQL only: on SQLite the test database lives in this process's memory.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from submissions.models import OutgoingEmail, Release, ReleaseJob, Submission, SynthesisPackPdf
from submissions.publishing.pack_file import request_pdf
from submissions.publishing.release_job import request_release

from ..contributor import ABOUT, url, walk_to
from ..factories import make_submission

ROOT = Path(__file__).resolve().parents[2]


def worker_env() -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "callforevidence.settings",
        "SECRET_KEY": "test-secret-key-not-for-production",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}"
            f"/{db['NAME']}"
        ),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_TIMEOUT": "1",
    }


def run_worker_process(env: dict[str, str], *options: str) -> None:
    """`manage.py db_worker --batch`: every task ready in its queue(s), then it exits."""
    command = [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload", *options]
    subprocess.run(  # noqa: S603 - our own command line
        [*command, "--no-startup-delay", "--interval", "0", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )


def the_emails_worker_sends_the_receipt_alone(env, mail_servers, submission, long_job: str):
    """The emails' worker (queue "default"), as `make run` starts it: it sends `submission`'s
    receipt and leaves the long job's task (its path ends with `long_job`) ready for the
    documents' worker, which it returns."""
    run_worker_process(env, "--queue-name", "default")
    receipt = OutgoingEmail.objects.get(kind="receipt", submission=submission)
    assert receipt.state == "sent"
    (message,) = mail_servers.inbox.to(ABOUT["email"])
    assert submission.reference in message["Subject"]
    task = DBTaskResult.objects.get(task_path__endswith=long_job)
    assert (task.queue_name, task.status) == ("documents", "READY")
    return task


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_process_delivers_the_receipt_after_a_refused_try(
    client, seeded_call, mail_servers
):
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs a database it can reach: PostgreSQL")
    walk_to(client, seeded_call, "check")
    client.post(url(seeded_call, "check"))
    submission = Submission.objects.get()

    env = worker_env()

    def worker(port: int) -> None:
        run_worker_process(env | {"EMAIL_PORT": str(port)})

    worker(mail_servers.refusing_port)
    receipt = OutgoingEmail.objects.get(kind="receipt")
    assert (receipt.state, receipt.attempts) == ("pending", 1)

    # Due again now, as if the 30 s had passed; the worker process sends it.
    OutgoingEmail.objects.update(next_try_at=receipt.created_at)
    DBTaskResult.objects.filter(status="READY").update(run_after=receipt.created_at)
    worker(mail_servers.working_port)
    receipt.refresh_from_db()
    assert receipt.state == "sent"
    (message,) = mail_servers.inbox.to(ABOUT["email"])
    assert submission.reference in message["Subject"]
    assert message.get_body(("html",)) is not None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_emails_worker_sends_while_a_pdf_waits_for_the_documents_worker(
    client, seeded_call, mail_servers, attachments_root
):
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs a database it can reach: PostgreSQL")
    # A member of staff asks for the pack's PDF (minutes of WeasyPrint for a big call), then a
    # contributor submits: their receipt is queued after the PDF.
    pdf, started = request_pdf(seeded_call, by_name="Bob Smith")
    assert started
    walk_to(client, seeded_call, "check")
    client.post(url(seeded_call, "check"))
    submission = Submission.objects.get()
    env = worker_env() | {
        "EMAIL_PORT": str(mail_servers.working_port),
        "ATTACHMENTS_ROOT": str(attachments_root),
    }

    # The emails' worker, as `make run` starts it, sends the receipt and leaves the PDF alone.
    pdf_task = the_emails_worker_sends_the_receipt_alone(
        env, mail_servers, submission, "make_pack_pdf"
    )
    pdf.refresh_from_db()
    assert pdf.state == SynthesisPackPdf.State.WAITING

    # The documents' worker makes it.
    run_worker_process(env, "--queue-name", "documents")

    pdf.refresh_from_db()
    assert pdf.state == SynthesisPackPdf.State.READY
    assert (attachments_root / pdf.file.name).stat().st_size == pdf.size > 0
    pdf_task.refresh_from_db()
    assert pdf_task.status == "SUCCESSFUL"
    assert len(mail_servers.inbox.to(ABOUT["email"])) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_emails_worker_sends_while_a_big_release_waits_for_the_documents_worker(
    client, seeded_call, mail_servers
):
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs a database it can reach: PostgreSQL")
    # A call manager publishes a release big enough for the worker (minutes at 300,000
    # contributions), then a contributor submits: their receipt is queued after the release.
    included = make_submission(seeded_call, review_status=Submission.ReviewStatus.INCLUDED)
    job, started = request_release(seeded_call, number=1)
    assert started
    walk_to(client, seeded_call, "check")
    client.post(url(seeded_call, "check"))
    submission = Submission.objects.exclude(pk=included.pk).get()
    env = worker_env() | {"EMAIL_PORT": str(mail_servers.working_port)}

    # The emails' worker sends the receipt and leaves the release alone.
    release_task = the_emails_worker_sends_the_receipt_alone(
        env, mail_servers, submission, "publish_release_job"
    )
    job.refresh_from_db()
    assert job.state == ReleaseJob.State.WAITING
    assert not Release.objects.filter(call=seeded_call).exists()

    # The documents' worker publishes it.
    run_worker_process(env, "--queue-name", "documents")

    job.refresh_from_db()
    assert job.state == ReleaseJob.State.DONE
    release = Release.objects.get(call=seeded_call)
    assert (release.number, job.release_id) == (1, release.pk)
    release_task.refresh_from_db()
    assert release_task.status == "SUCCESSFUL"
    assert len(mail_servers.inbox.to(ABOUT["email"])) == 1

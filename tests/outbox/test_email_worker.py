"""`manage.py db_worker` itself, as its own process, delivers what a request queued.

PostgreSQL only: on SQLite the test database lives in this process's memory.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from submissions.models import OutgoingEmail, Submission

from ..contributor import ABOUT, url, walk_to

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_process_delivers_the_receipt_after_a_refused_try(
    client, seeded_call, mail_servers
):
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs a database it can reach: PostgreSQL")
    walk_to(client, seeded_call, "check")
    client.post(url(seeded_call, "check"))
    submission = Submission.objects.get()

    db = connection.settings_dict
    env = {
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

    def worker(port: int) -> None:
        command = [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload"]
        subprocess.run(  # noqa: S603 - our own command line
            [*command, "--no-startup-delay", "--interval", "0", "-v", "0"],
            cwd=ROOT,
            env={**env, "EMAIL_PORT": str(port)},
            check=True,
            timeout=120,
        )

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

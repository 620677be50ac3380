"""The pack's PDF under concurrency, in real threads on PostgreSQL: two presses of "Download the
PDF" at once start one PDF (the first press ever, which inserts the row, and a later one, which
updates it); and a contribution erased while the worker stores its PDF is never left in a kept
file, whichever of the two takes the row's lock first.

As in test_outcome_races.py: the first is held just after it writes (or locks) the table, until
the database shows the second one waiting for that lock; then the first commits.
"""

import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from submissions.models import Submission, SynthesisPackPdf, Theme
from submissions.publishing.pack_file import request_pdf

from ..factories import make_call, make_call_manager, make_submission
from .test_outcome_races import WAIT, someone_waits_for_a_lock

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="races need concurrent transactions and row locks: SQLite serialises every write",
    ),
]
TABLE = "submissions_synthesispackpdf"
State = SynthesisPackPdf.State


class HoldAfterWriting:
    """In the first thread: once the table is inserted into, updated or locked, wait."""

    def __init__(self, written: threading.Event, release: threading.Event):
        self.written, self.release, self.done = written, release, False

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        words = sql.lstrip().upper()
        writes = words.startswith(("INSERT", "UPDATE")) or "FOR UPDATE" in words
        if not self.done and writes and f'"{TABLE.upper()}"' in words:
            self.done = True
            self.written.set()
            assert self.release.wait(timeout=WAIT)
        return result


def race(first, second) -> list:
    """first() is held after its first write to the PDF's table; second() starts then; the first
    goes on once the second waits for its lock. Returns both results."""
    written, release = threading.Event(), threading.Event()
    results: list = [None, None]

    def run(n: int) -> None:
        try:
            if n == 0:
                with connection.execute_wrapper(HoldAfterWriting(written, release)):
                    results[n] = first()
            else:
                assert written.wait(timeout=WAIT)
                results[n] = second()
        except BaseException as error:  # reported by the test, not lost in the thread
            results[n] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in (0, 1)]
    threads[0].start()
    assert written.wait(timeout=WAIT)
    threads[1].start()
    for _ in range(WAIT * 20):
        if someone_waits_for_a_lock():
            break
        threading.Event().wait(0.05)
    else:
        release.set()
        raise AssertionError("the second never waited for the first one's lock")
    release.set()
    for thread in threads:
        thread.join(timeout=3 * WAIT)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


@pytest.fixture
def call():
    call = make_call()
    tools = Theme.objects.create(name="Tools")
    for name in ("Ana", "Bea"):
        submission = make_submission(call, name=name, review_status="included")
        submission.themes.set([tools])
    make_call_manager()
    return call


def press(call, action: str):
    def pressed() -> str:
        client = Client()
        client.force_login(User.objects.get(username="bob"))
        response = client.post(
            reverse("admin:submissions_call_pack_pdf", args=[call.pk]),
            {"action": action},
            follow=True,
        )
        assert response.status_code == 200
        return response.content.decode()

    return pressed


def pdf_tasks() -> int:
    return DBTaskResult.objects.filter(task_path__endswith="make_pack_pdf").count()


def test_the_first_two_presses_at_once_start_one_pdf(call):
    pages = race(press(call, "download"), press(call, "download"))

    assert SynthesisPackPdf.objects.count() == 1 and pdf_tasks() == 1
    assert "already being prepared" not in pages[0]
    assert "This PDF was already being prepared: pressing again starts no other." in pages[1]


def test_two_presses_at_once_after_one_failed_start_one_new_pdf(call):
    failed, _ = request_pdf(call, by_name="")
    SynthesisPackPdf.objects.filter(pk=failed.pk).update(state=State.FAILED, problem="x")

    pages = race(press(call, "again"), press(call, "again"))

    pdf = SynthesisPackPdf.objects.get()
    assert pdf.state == State.WAITING and pdf.job != failed.job
    assert pdf_tasks() == 2  # the failed one's, and one new
    assert "already being prepared" in pages[1]


def making(call) -> SynthesisPackPdf:
    pdf, _ = request_pdf(call, by_name="")
    assert SynthesisPackPdf.claim(pdf.pk, str(pdf.job))
    return pdf


def store(pdf: SynthesisPackPdf):
    def stored() -> str:
        return pdf.store(
            str(pdf.job),
            name="packs/made.pdf",
            size=1,
            pages=1,
            contributions=list(Submission.objects.values_list("pk", flat=True)),
            seconds=1,
        )

    return stored


def test_an_erasure_while_the_pdf_is_stored_deletes_the_stored_file(call):
    pdf = making(call)
    ana = Submission.objects.get(name="Ana")

    outcome, erased = race(store(pdf), ana.erase)

    assert outcome == "stored" and erased
    pdf.refresh_from_db()
    assert pdf.state == State.DELETED and not pdf.file.name and pdf.contributions == []


def test_a_pdf_stored_after_an_erasure_is_not_kept(call):
    pdf = making(call)
    ana = Submission.objects.get(name="Ana")

    erased, outcome = race(ana.erase, store(pdf))

    assert erased and outcome == "changed"
    pdf.refresh_from_db()
    assert pdf.state == State.MAKING and not pdf.file.name  # the task makes it again

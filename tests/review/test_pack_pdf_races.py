"""The pack's PDF under concurrency, in real threads on PostgreSQL: two presses of "Download the
PDF" at once start one PDF (the first press ever, which inserts the row, and a later one, which
updates it); and a contribution erased while the worker stores its PDF is never left in a kept
file, whichever of the two takes the row's lock first.

As in test_outcome_races.py (with tests/races.py): the first is held just after it writes (or
locks) the table, until the database shows the second one waiting for that lock; then the first
commits.
"""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from submissions.models import Submission, SynthesisPackPdf, Theme
from submissions.publishing.pack_file import request_pdf

from ..factories import make_call, make_call_manager, make_submission
from ..races import second_waits_for_the_first

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="races need concurrent transactions and row locks: SQLite serialises every write",
    ),
]
TABLE = "submissions_synthesispackpdf"
State = SynthesisPackPdf.State


def race(first, second) -> list:
    """first() is held after its first write to the PDF's table; second() starts then; the first
    goes on once the second waits for its lock. Returns both results."""
    return second_waits_for_the_first(TABLE, ("INSERT", "UPDATE"), first, second)


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

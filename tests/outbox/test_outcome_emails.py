"""Everyone told, through the outbox: the toolkit is published (to each contributor in it), a
thank-you (to every other contributor, if the call says so), a withdrawal request (to the staff
named on the call) and an erasure (to the contributor, after their submission is gone)."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from submissions.common.site import absolute
from submissions.models import (
    CREDIT_FIELDS,
    Call,
    NothingReleased,
    OutgoingEmail,
    Redaction,
    Release,
    Submission,
)
from submissions.outbox import queue as outbox
from submissions.publishing.releases import take_down

from ..factories import make_call, make_submission
from ..publishing.helpers import page_url, publish
from ..worker import run_worker

pytestmark = pytest.mark.django_db
Kind = OutgoingEmail.Kind
INCLUDED = Submission.ReviewStatus.INCLUDED
TOOLKIT = "https://toolkit.example/social-media"


def sent(kind: str) -> list:
    """Run the worker, then the messages of this kind that went out."""
    run_worker()
    subjects = {
        Kind.TOOLKIT_PUBLISHED: "is published",
        Kind.THANK_YOU: "Thank you for your evidence",
        Kind.WITHDRAWAL_REQUESTED: "Withdrawal requested",
        Kind.ERASED: "has been erased",
    }
    return [m for m in mail.outbox if subjects[kind] in m.subject]


def queue_toolkit(call) -> str:
    """Run the toolkit's queueing task now, as the long jobs' worker does (and no email's)."""
    return outbox.queue_toolkit_job.call(call.pk, Release.latest_of(call).pk)


def queue_toolkit_stopped_in_the_second_batch(monkeypatch, call, size: int) -> None:
    """Run the toolkit's queueing task `size` people to a batch, the worker stopped (killed,
    restarted) in the second batch: the first batch's emails are committed, the rest are left
    to the next run. QUEUE_BATCH stays `size` for the rest of the test."""
    monkeypatch.setattr(outbox, "QUEUE_BATCH", size)
    real = outbox.queue_many
    batches: list[int] = []

    def stopped_in_the_second_batch(*args, **kwargs):
        batches.append(1)
        if len(batches) == 2:
            raise SystemExit("the worker was stopped")
        return real(*args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(outbox, "queue_many", stopped_in_the_second_batch)
        with pytest.raises(SystemExit):
            queue_toolkit(call)


def assert_readable_on_any_device(message, organisation: str = "NCCPE") -> str:
    """A text part and an HTML part, each naming the organisation; the HTML fits a phone."""
    (html, mimetype) = message.alternatives[0]
    assert mimetype == "text/html"
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert organisation in message.body and organisation in html
    return html


@pytest.fixture
def call_after_the_event():
    call = make_call(title="What Works: Social Media", notification_emails="team@example.org")
    people = {
        "ana": make_submission(
            call,
            name="Ana Jones",
            organisation="UWE",
            email="ana@example.org",
            review_status=INCLUDED,
        ),
        # Ana again, with another address case: one person, one email listing both.
        "ana2": make_submission(
            call,
            name="Ana Jones",
            organisation="UWE Bristol",
            email="ANA@example.org",
            review_status=INCLUDED,
        ),
        "bo": make_submission(
            call,
            email="bo@example.org",
            review_status=INCLUDED,
            credit_preference=Submission.Credit.NONE,
        ),
        "cy": make_submission(call, email="cy@example.org"),  # new: thanked
        "dee": make_submission(
            call, email="dee@example.org", review_status=Submission.ReviewStatus.SHORTLISTED
        ),
        "eli": make_submission(call, email="eli@example.org", review_status=INCLUDED),
        "fi": make_submission(call, email="fi@example.org", state=Submission.State.DRAFT),
        # Ana's third contribution, not included: she hears once, of the toolkit.
        "ana3": make_submission(call, email="ana@example.org"),
    }
    people["eli"].request_withdrawal()
    other = make_call()
    make_submission(other, email="other-call@example.org", review_status=INCLUDED)
    publish(other)
    publish(call)  # release 1: Ana's two and Bo's
    run_worker()  # the staff's notice of Eli's withdrawal; "your evidence is published"
    mail.outbox.clear()
    return call, people


def test_each_contributor_in_the_toolkit_gets_one_email_with_the_link_and_their_credit(
    call_after_the_event,
):
    call, people = call_after_the_event
    mail.outbox.clear()

    assert call.mark_toolkit_published(TOOLKIT, thank_others=False, by="Bob")

    messages = sent(Kind.TOOLKIT_PUBLISHED)
    assert sorted(m.to[0] for m in messages) == ["ana@example.org", "bo@example.org"]
    ana = next(m for m in messages if m.to == ["ana@example.org"])
    html = assert_readable_on_any_device(ana)
    assert ana.subject == (
        "The toolkit of What Works: Social Media is published, with your evidence in it"
    )
    for body in (ana.body, html):
        assert TOOLKIT in body
        assert people["ana"].reference in body and people["ana2"].reference in body
        assert people["ana3"].reference not in body
        assert f"/{call.slug}/outcome/" in body
    # Each credit line exactly as the credits page shows it, with the contribution's page.
    assert "> Ana Jones, UWE\n" in ana.body and "> Ana Jones, UWE Bristol\n" in ana.body
    assert "<blockquote" in html and ">Ana Jones, UWE Bristol</blockquote>" in html
    for who in ("ana", "ana2"):
        page = absolute(page_url(call, people[who]))
        assert f"Its page: {page}\n" in ana.body
        assert f'<a href="{page}"' in html
    bo = next(m for m in messages if m.to == ["bo@example.org"])
    assert "you asked not to be named" in bo.body
    assert f"Its page: {absolute(page_url(call, people['bo']))}" in bo.body
    # Nobody else heard: no thank-yous were chosen.
    assert sent(Kind.THANK_YOU) == []
    assert {m.to[0] for m in mail.outbox} == {"ana@example.org", "bo@example.org"}


def test_every_other_contributor_is_thanked_once_when_the_call_says_so(call_after_the_event):
    call, people = call_after_the_event
    mail.outbox.clear()

    call.mark_toolkit_published(TOOLKIT, thank_others=True, by="Bob")

    thanks = sent(Kind.THANK_YOU)
    # Cy (new) and Dee (shortlisted); not Ana (in the toolkit), Eli (withdrew) or Fi (a draft).
    assert sorted(m.to[0] for m in thanks) == ["cy@example.org", "dee@example.org"]
    cy = next(m for m in thanks if m.to == ["cy@example.org"])
    html = assert_readable_on_any_device(cy)
    for body in (cy.body, html):
        assert f"/{call.slug}/outcome/" in body
        assert people["cy"].reference in body
        assert TOOLKIT in body
    assert call.__class__.objects.get(pk=call.pk).outcome_is_published


def test_a_contribution_submitted_after_the_press_is_not_thanked_for(call_after_the_event):
    call, people = call_after_the_event
    assert call.mark_toolkit_published(TOOLKIT, thank_others=True, by="Bob")

    # While the task waits for the long jobs' worker, a newcomer submits, and Cy again.
    make_submission(call, email="late@example.org")
    make_submission(call, email="cy@example.org")

    thanks = sent(Kind.THANK_YOU)
    assert sorted(m.to[0] for m in thanks) == ["cy@example.org", "dee@example.org"]
    told = sorted(m.to[0] for m in sent(Kind.TOOLKIT_PUBLISHED))
    assert told == ["ana@example.org", "bo@example.org"]
    assert "late@example.org" not in {m.to[0] for m in mail.outbox}
    cy = OutgoingEmail.objects.get(kind=Kind.THANK_YOU, to="cy@example.org")
    assert cy.params["submissions"] == [people["cy"].pk]
    assert Call.objects.get(pk=call.pk).toolkit_emails_total == 4


def test_pressing_the_button_again_emails_nobody_again(call_after_the_event):
    call, _ = call_after_the_event

    told = OutgoingEmail.objects.filter(kind__in=[Kind.TOOLKIT_PUBLISHED, Kind.THANK_YOU])

    assert call.mark_toolkit_published(TOOLKIT, thank_others=True, by="Bob")
    again = call.__class__.objects.get(pk=call.pk)
    assert not again.mark_toolkit_published(TOOLKIT + "/v2", thank_others=True, by="Carol")
    jobs = DBTaskResult.objects.filter(task_path__endswith="queue_toolkit_job")
    assert jobs.count() == 1 and not told.exists()  # the worker queues them
    run_worker()
    # The task run again (a second worker, the fallback after a worker died) queues nobody.
    assert queue_toolkit(call) == "already queued"

    assert told.count() == 4  # Ana and Bo in the toolkit; Cy and Dee thanked
    call.refresh_from_db()
    assert call.toolkit_url == TOOLKIT and call.toolkit_published_by == "Bob"


def test_an_email_whose_contributions_were_withdrawn_meanwhile_is_not_sent(call_after_the_event):
    call, people = call_after_the_event
    call.mark_toolkit_published(TOOLKIT, thank_others=False, by="Bob")
    queue_toolkit(call)
    people["bo"].request_withdrawal()
    mail.outbox.clear()

    run_worker()

    email = OutgoingEmail.objects.get(kind=Kind.TOOLKIT_PUBLISHED, to="bo@example.org")
    assert email.state == OutgoingEmail.State.CANCELLED
    assert "bo@example.org" not in [m.to[0] for m in mail.outbox]


def test_staff_named_on_the_call_hear_of_a_withdrawal_request_once(call_after_the_event):
    _, people = call_after_the_event
    mail.outbox.clear()
    cy = people["cy"]

    assert cy.request_withdrawal()
    assert not Submission.objects.get(pk=cy.pk).request_withdrawal()

    (notice,) = sent(Kind.WITHDRAWAL_REQUESTED)
    assert notice.to == ["team@example.org"]
    assert notice.subject == f"Withdrawal requested: {cy.reference} to What Works: Social Media"
    html = assert_readable_on_any_device(notice)
    for body in (notice.body, html):
        assert f"/admin/submissions/submission/{cy.pk}/change/" in body
        assert "UK time" in body
        assert cy.email not in body and cy.name not in body
    assert OutgoingEmail.objects.filter(kind=Kind.WITHDRAWAL_REQUESTED).count() == 2  # Eli, Cy


def test_a_call_with_no_staff_addresses_sends_no_withdrawal_notice():
    call = make_call(notification_emails="")
    make_submission(call).request_withdrawal()

    assert not OutgoingEmail.objects.filter(kind=Kind.WITHDRAWAL_REQUESTED).exists()


def test_the_contributor_is_told_of_the_erasure_by_an_email_that_outlives_the_submission():
    call = make_call(title="What Works: Social Media")
    submission = make_submission(
        call, name="Ana Jones", organisation="UWE", email="ana@example.org", role="Lecturer"
    )
    reference = submission.reference
    outbox.queue(Kind.RECEIPT, [submission.email], call, submission)  # still pending
    mail.outbox.clear()

    assert submission.erase()
    assert not Submission.objects.filter(pk=submission.pk).exists()
    assert not Submission(pk=submission.pk).erase()  # a second press: nothing to erase

    # What is kept until it is sent: the address and the reference, nothing else of them.
    (email,) = OutgoingEmail.objects.all()
    assert email.kind == Kind.ERASED and email.submission is None
    assert email.to == "ana@example.org" and email.params == {"reference": reference}
    (message,) = sent(Kind.ERASED)
    assert message.to == ["ana@example.org"]
    assert message.subject == "Your evidence to What Works: Social Media has been erased"
    html = assert_readable_on_any_device(message)
    for body in (message.body, html):
        assert reference in body
        for personal in ["Ana", "UWE", "Lecturer"]:
            assert personal not in body
    # Once sent, the address goes too.
    email.refresh_from_db()
    assert email.state == OutgoingEmail.State.SENT and email.to == ""
    assert not any(
        m.subject.startswith("Your evidence to") and "reference" in m.subject for m in mail.outbox
    )


def test_erasing_a_draft_tells_nobody():
    call = make_call()
    draft = make_submission(call, state=Submission.State.DRAFT, email="kim@example.org")

    assert draft.erase()

    assert not OutgoingEmail.objects.exists()


def test_erasing_a_submission_erases_its_pending_toolkit_email(call_after_the_event):
    call, people = call_after_the_event
    call.mark_toolkit_published(TOOLKIT, thank_others=False, by="Bob")
    queue_toolkit(call)
    assert OutgoingEmail.objects.filter(to="bo@example.org", kind=Kind.TOOLKIT_PUBLISHED).exists()

    people["bo"].erase()

    kinds = OutgoingEmail.objects.filter(to="bo@example.org").values_list("kind", flat=True)
    assert list(kinds) == [Kind.ERASED]


def test_a_contribution_included_but_not_released_is_in_no_toolkit_email(call_after_the_event):
    call, people = call_after_the_event
    # Included by a reviewer after release 1: nothing public yet, so no credit by email either.
    gus = make_submission(
        call, name="Gus Unreleased", email="gus@example.org", review_status=INCLUDED
    )
    ana4 = make_submission(
        call, name="Ana Jones", organisation="Later Org", email="ana@example.org",
        review_status=INCLUDED,
    )  # fmt: skip

    assert call.mark_toolkit_published(TOOLKIT, thank_others=False, by="Bob")

    messages = sent(Kind.TOOLKIT_PUBLISHED)
    assert sorted(m.to[0] for m in messages) == ["ana@example.org", "bo@example.org"]
    ana = next(m for m in messages if m.to == ["ana@example.org"])
    assert people["ana"].reference in ana.body and ana4.reference not in ana.body
    assert "Later Org" not in ana.body + ana.alternatives[0][0]
    for message in mail.outbox:
        assert "Gus" not in message.body and gus.reference not in message.body


def test_one_included_but_not_released_is_thanked_when_the_call_says_so(call_after_the_event):
    call, _ = call_after_the_event
    gus = make_submission(call, email="gus@example.org", review_status=INCLUDED)

    assert call.mark_toolkit_published(TOOLKIT, thank_others=True, by="Bob")

    thanks = {m.to[0]: m for m in sent(Kind.THANK_YOU)}
    assert sorted(thanks) == ["cy@example.org", "dee@example.org", "gus@example.org"]
    assert gus.reference in thanks["gus@example.org"].body
    assert "not among the contributions published with the toolkit" in (
        thanks["gus@example.org"].body
    )
    assert "gus@example.org" not in [m.to[0] for m in sent(Kind.TOOLKIT_PUBLISHED)]


def test_the_credit_line_is_the_one_the_latest_release_shows(call_after_the_event):
    call, people = call_after_the_event
    # A correction on the status page reaches the public with the next release, not before.
    ana = Submission.objects.get(pk=people["ana"].pk)
    details = {f: getattr(ana, f) for f in CREDIT_FIELDS}
    assert ana.correct_credit({**details, "organisation": "Corrected Org"})

    call.mark_toolkit_published(TOOLKIT, thank_others=False, by="Bob")
    (before,) = [m for m in sent(Kind.TOOLKIT_PUBLISHED) if m.to == ["ana@example.org"]]

    assert "> Ana Jones, UWE\n" in before.body and "Corrected Org" not in before.body
    # Sent again after release 2, it says what the public now reads.
    publish(call)
    run_worker()
    mail.outbox.clear()
    email = OutgoingEmail.objects.get(kind=Kind.TOOLKIT_PUBLISHED, to="ana@example.org")
    outbox.send_again(email)
    (after,) = [m for m in sent(Kind.TOOLKIT_PUBLISHED) if m.to == ["ana@example.org"]]
    assert "> Ana Jones, Corrected Org\n" in after.body


def test_a_redacted_span_is_in_no_toolkit_email_nor_on_the_outcome_page():
    call = make_call()
    question = call.questions.first()
    ana = make_submission(
        call,
        email="ana@example.org",
        review_status=INCLUDED,
        answers={str(question.pk): "Ask Dr Hidden Person, who ran it."},
    )
    Redaction.add(ana, part=Redaction.answer_part(question), text="Dr Hidden Person",
                  reason=Redaction.Reason.THIRD_PARTY)  # fmt: skip
    publish(call)
    run_worker()
    mail.outbox.clear()

    call.mark_toolkit_published(TOOLKIT, thank_others=True, by="Bob")

    (message,) = sent(Kind.TOOLKIT_PUBLISHED)
    assert "Hidden" not in message.body and "Hidden" not in message.alternatives[0][0]
    from django.test import Client

    page = Client().get(f"/{call.slug}/outcome/").content.decode()
    assert "Hidden" not in page and page_url(call, ana) in page


def test_one_taken_down_after_the_press_is_left_out_of_its_email(call_after_the_event):
    call, people = call_after_the_event
    call.mark_toolkit_published(TOOLKIT, thank_others=False, by="Bob")
    queue_toolkit(call)
    Submission.objects.filter(pk=people["ana2"].pk).update(withheld_from_open_data=True)
    take_down(people["ana2"])  # as the admin's "withhold" does

    (ana,) = [m for m in sent(Kind.TOOLKIT_PUBLISHED) if m.to == ["ana@example.org"]]

    assert people["ana"].reference in ana.body and people["ana2"].reference not in ana.body
    assert "UWE Bristol" not in ana.body


def test_before_any_release_marking_the_toolkit_published_is_refused_and_changes_nothing():
    call = make_call()
    make_submission(call, email="ana@example.org", review_status=INCLUDED)

    with pytest.raises(NothingReleased):
        call.mark_toolkit_published(TOOLKIT, thank_others=True, by="Bob")

    fresh = Call.objects.get(pk=call.pk)
    assert fresh.toolkit_published_at is None and fresh.toolkit_url == ""
    assert fresh.outcome_published_at is None
    assert not OutgoingEmail.objects.exists() and not DBTaskResult.objects.exists()


def make_contributors(call, n: int, start: int = 0) -> None:
    """n people: every other one included, then released (by the caller's publish())."""
    for k in range(start, start + n):
        make_submission(call, email=f"p{k}@example.org", review_status=INCLUDED if k % 2 else "new")


def counting(action) -> tuple[int, dict[str, int]]:
    """The queries of action(), and its INSERTs by table."""
    with CaptureQueriesContext(connection) as captured:
        action()
    inserts: dict[str, int] = {}
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql.startswith("INSERT INTO"):
            table = sql.split('"')[1]
            inserts[table] = inserts.get(table, 0) + 1
    return len(captured), inserts


def press_counting(call) -> tuple[int, dict[str, int]]:
    """Mark the toolkit published (everyone else thanked): the queries, and the INSERTs by
    table."""

    def press() -> None:
        assert Call.objects.get(pk=call.pk).mark_toolkit_published(TOOLKIT, True, by="Bob")

    return counting(press)


def job_counting(call) -> tuple[int, dict[str, int]]:
    """The worker's task that queues the emails: its queries, and its INSERTs by table."""
    result: list[str] = []
    release = Release.latest_of(call)
    assert release is not None
    counted = counting(lambda: result.append(outbox.queue_toolkit_job.call(call.pk, release.pk)))
    assert result[0].startswith("queued")
    return counted


def test_the_press_costs_the_same_queries_for_6_people_or_60_and_queues_one_task():
    few, many = make_call(), make_call()
    make_contributors(few, 6)
    make_contributors(many, 60, start=100)
    publish(few)
    publish(many)

    queries_few, inserts_few = press_counting(few)
    queries_many, inserts_many = press_counting(many)

    assert not OutgoingEmail.objects.filter(kind__in=[Kind.TOOLKIT_PUBLISHED, Kind.THANK_YOU])
    # The call; whether it has a release; the conditional UPDATE and reading it back; the
    # latest release; the one task's INSERT; the savepoint and its release.
    assert queries_few == queries_many == 8
    assert inserts_few == inserts_many == {"django_tasks_database_dbtaskresult": 1}


def test_the_worker_queues_them_in_the_same_queries_for_6_people_or_60():
    few, many = make_call(), make_call()
    make_contributors(few, 6)
    make_contributors(many, 60, start=100)
    publish(few)
    publish(many)
    press_counting(few)
    press_counting(many)

    queries_few, inserts_few = job_counting(few)
    queries_many, inserts_many = job_counting(many)

    assert OutgoingEmail.objects.filter(call=many).count() == 60
    # The call; the release; its fallback task; counting whom it tells (one cursor) and
    # recording it. One batch: the call's row lock (reading how far it got), the next
    # addresses, their contributions (one cursor), one INSERT of emails and one of their
    # tasks, recording how far it got; then the lock again, no more addresses, recording it
    # done; each batch's savepoint and its release.
    assert queries_few == queries_many == 18
    # One INSERT of emails and one of their tasks, however many are told.
    expected = {
        "submissions_outgoingemail": 1,
        "django_tasks_database_dbtaskresult": 2,  # and the fallback task
    }
    assert inserts_few == inserts_many == expected


def told(call):
    """The call's emails of the toolkit: to each contributor in it, and the thank-yous."""
    return OutgoingEmail.objects.filter(
        call=call, kind__in=[Kind.TOOLKIT_PUBLISHED, Kind.THANK_YOU]
    )


@pytest.fixture
def pressed_for_10_in_batches_of_4(monkeypatch):
    """A call of 10 contributors (every other one included and released), each told their
    evidence is published (mail.outbox emptied after), then the toolkit marked published with
    everyone else thanked: its emails to be queued in batches of 4, its job not run yet."""
    monkeypatch.setattr(outbox, "QUEUE_BATCH", 4)
    call = make_call()
    make_contributors(call, 10)
    publish(call)
    run_worker()  # "your evidence is published"
    mail.outbox.clear()
    press_counting(call)
    return call


def test_the_emails_go_in_batches_each_one_insert_of_emails_and_one_of_tasks(
    pressed_for_10_in_batches_of_4,
):
    call = pressed_for_10_in_batches_of_4

    _, inserts = job_counting(call)

    assert inserts == {"submissions_outgoingemail": 3, "django_tasks_database_dbtaskresult": 4}
    emails = told(call)
    assert sorted(emails.values_list("kind", flat=True)) == sorted(
        [Kind.TOOLKIT_PUBLISHED] * 5 + [Kind.THANK_YOU] * 5
    )
    # Each has its task, and the worker sends each once.
    ids = sorted(emails.values_list("pk", flat=True))
    tasks = DBTaskResult.objects.filter(task_path__endswith="deliver_email")
    assert (
        sorted(
            a["args"][0] for a in tasks.values_list("args_kwargs", flat=True) if a["args"][0] in ids
        )
        == ids
    )
    run_worker()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"p{k}@example.org" for k in range(10))


def test_a_worker_that_died_half_way_is_followed_by_one_that_queues_the_rest_once(
    monkeypatch, pressed_for_10_in_batches_of_4
):
    call = pressed_for_10_in_batches_of_4
    queue_toolkit_stopped_in_the_second_batch(monkeypatch, call, 4)
    emails = told(call)
    fresh = Call.objects.get(pk=call.pk)
    assert emails.count() == fresh.toolkit_emails_queued == 4  # the first batch's, committed
    assert (fresh.toolkit_emails_total, fresh.toolkit_emails_done_at) == (10, None)

    assert queue_toolkit(call) == "queued 6"  # the fallback, or anyone running it again

    fresh.refresh_from_db()
    assert emails.count() == fresh.toolkit_emails_queued == 10
    assert sorted(emails.values_list("to", flat=True)) == sorted(
        f"p{k}@example.org" for k in range(10)
    )
    assert fresh.toolkit_emails_done_at is not None
    assert queue_toolkit(call) == "already queued"


def test_a_run_that_finds_another_went_on_meanwhile_stops(monkeypatch):
    monkeypatch.setattr(outbox, "QUEUE_BATCH", 4)
    call = make_call()
    make_contributors(call, 10)
    publish(call)
    press_counting(call)
    real = outbox.toolkit_audience

    def another_run_goes_first(*args, **kwargs):
        # This run has read where to start; another (a second worker) queues them all now.
        monkeypatch.setattr(outbox, "toolkit_audience", real)
        assert queue_toolkit(call) == "queued 10"
        return real(*args, **kwargs)

    monkeypatch.setattr(outbox, "toolkit_audience", another_run_goes_first)

    assert queue_toolkit(call) == "queued 0; another run goes on"

    assert told(call).count() == Call.objects.get(pk=call.pk).toolkit_emails_queued == 10

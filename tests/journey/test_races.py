"""A confirmed submission stays submitted: no step of the journey can write to it afterwards.

Each test races one step's POST against the final submit, in real threads on PostgreSQL, in the
two orders that matter: the submit commits while the step is between reading the draft and
writing it; or the submit holds its row lock while the step tries to write. The pause is made by
a database execute wrapper in the step's (or the submit's) own thread, with a threading.Barrier
and events, so both orders happen every time instead of now and then.
"""

import threading
import time

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from submissions.models import Attachment, ContributorLink, OutgoingEmail, Submission

from .. import samples
from ..contributor import ABOUT, evidence_data, url, walk_to
from ..factories import make_call, make_call_manager
from ..files import BOUNDARY, multipart

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="races need concurrent transactions and row locks: SQLite serialises every write",
    ),
]

WAIT = 20  # seconds; far more than any step takes, short enough to fail rather than hang
KEPT = [
    "state",
    "reference",
    "submitted_at",
    "is_late",
    "name",
    "email",
    "organisation",
    "answers",
    "links",
    "consent_given_at",
]


def is_write_to_a_submission(sql: str) -> bool:
    words = sql.lstrip().upper()
    writes = words.startswith(("UPDATE", "INSERT", "DELETE")) or "FOR UPDATE" in words
    return writes and '"SUBMISSIONS_' in words


class PauseBeforeFirstWrite:
    """In the step's thread: once the draft is read, wait until the submit has committed."""

    def __init__(self, barrier: threading.Barrier, submitted: threading.Event):
        self.barrier, self.submitted, self.paused = barrier, submitted, False

    def __call__(self, execute, sql, params, many, context):
        if not self.paused and is_write_to_a_submission(sql):
            self.paused = True
            self.barrier.wait(timeout=WAIT)
            assert self.submitted.wait(timeout=WAIT)
        return execute(sql, params, many, context)


def is_read_of_a_submission_in_a_transaction(sql: str) -> bool:
    words = sql.lstrip().upper()
    return (
        connection.in_atomic_block
        and words.startswith("SELECT")
        and ('FROM "SUBMISSIONS_SUBMISSION"' in words)
    )


class HoldTheLock:
    """In the submit's thread: once it has read the row in its transaction (where it takes the
    row lock), stop there until told to go on.

    Keyed on the read, not on "FOR UPDATE" in the SQL: without the lock the submit still stops
    at the same point, and the test fails at once instead of waiting for a lock never taken.
    """

    def __init__(self, locked: threading.Event, release: threading.Event):
        self.locked, self.release, self.done = locked, release, False

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not self.done and is_read_of_a_submission_in_a_transaction(sql):
            self.done = True
            self.locked.set()
            assert self.release.wait(timeout=WAIT)
        return result


def twin(cookie: str) -> Client:
    """Another client in the same browser session: a second tab."""
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    return client


def post_step(client: Client, call, step: str, data):
    if step == "files-add":
        body = multipart([("late.txt", samples.TXT)], action="add")
        content_type = f"multipart/form-data; boundary={BOUNDARY}"
        return client.post(url(call, "files"), body, content_type=content_type)
    if step == "files-remove":
        return client.post(f"/{call.slug}/files/remove/", data)
    if step == "declined":
        # "No" to the licence asks first; this is the confirmed "Yes, delete my answers".
        return client.post(f"/{call.slug}/licence/delete-answers/", data)
    return client.post(url(call, step), data)


def in_thread(results: dict, key: str, work) -> threading.Thread:
    def run():
        try:
            results[key] = work()
        except BaseException as error:  # reported by the test, not lost in the thread
            results[key] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.fixture
def draft_at_check():
    """A complete draft with one file, ready to submit, and its session cookie."""
    call = make_call()
    client = Client()
    walk_to(client, call, "files")
    body = multipart([("evidence.pdf", samples.PDF)], action="continue")
    response = client.post(
        url(call, "files"), body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    assert response.status_code == 302
    return call, client.cookies[settings.SESSION_COOKIE_NAME].value


def step_data(call, step: str) -> dict:
    submission = Submission.objects.get()
    return {
        "consent": {"consent": "yes"},
        "declined": {},
        "about": {**ABOUT, "name": "Mallory", "email": "mallory@example.org"},
        "evidence": evidence_data(call, links="https://example.org/changed"),
        "files-add": {},
        "files-remove": {"remove": str(submission.attachments.get().pk)},
    }[step]


STEPS = ["consent", "declined", "about", "evidence", "files-add", "files-remove"]


def assert_the_confirmed_submission_is_kept(snapshot: dict, files: set[int]) -> None:
    submission = Submission.objects.get()
    assert {field: getattr(submission, field) for field in KEPT} == snapshot
    assert set(submission.attachments.values_list("pk", flat=True)) == files
    assert not Attachment.objects.filter(uploaded_at__gt=snapshot["submitted_at"]).exists()


@pytest.mark.parametrize("step", STEPS)
def test_a_step_posted_as_the_submit_commits_changes_nothing(draft_at_check, step):
    call, cookie = draft_at_check
    data = step_data(call, step)
    barrier, submitted = threading.Barrier(2), threading.Event()
    results: dict = {}

    def the_step():
        with connection.execute_wrapper(PauseBeforeFirstWrite(barrier, submitted)):
            return post_step(twin(cookie), call, step, data)

    def the_submit():
        barrier.wait(timeout=WAIT)
        response = twin(cookie).post(url(call, "check"))
        submission = Submission.objects.get()
        results["snapshot"] = {field: getattr(submission, field) for field in KEPT}
        results["files"] = set(submission.attachments.values_list("pk", flat=True))
        submitted.set()
        return response

    threads = [in_thread(results, "step", the_step), in_thread(results, "submit", the_submit)]
    for thread in threads:
        thread.join(timeout=3 * WAIT)

    assert results["submit"].status_code == 302, results["submit"]
    assert results["step"].status_code == 302, results["step"]
    assert results["snapshot"]["state"] == Submission.State.SUBMITTED
    assert_the_confirmed_submission_is_kept(results["snapshot"], results["files"])
    # The tab that lost the race shows the confirmation, as the one that won does.
    assert results["step"].url == url(call, "confirmation")


@pytest.mark.parametrize("step", STEPS)
def test_a_step_posted_while_the_submit_holds_its_lock_changes_nothing(draft_at_check, step):
    call, cookie = draft_at_check
    data = step_data(call, step)
    locked, release = threading.Event(), threading.Event()
    results: dict = {}

    def the_submit():
        with connection.execute_wrapper(HoldTheLock(locked, release)):
            return twin(cookie).post(url(call, "check"))

    submit = in_thread(results, "submit", the_submit)
    assert locked.wait(timeout=WAIT)
    step_thread = in_thread(results, "step", lambda: post_step(twin(cookie), call, step, data))
    # Let the step run into the lock (a step that takes no lock simply runs on), then go on.
    deadline = time.monotonic() + 5
    while not someone_waits_for_a_lock() and step_thread.is_alive():
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    release.set()
    submit.join(timeout=3 * WAIT)
    step_thread.join(timeout=3 * WAIT)

    assert results["submit"].status_code == 302, results["submit"]
    assert results["step"].status_code == 302, results["step"]
    submission = Submission.objects.get()
    assert submission.state == Submission.State.SUBMITTED
    assert submission.reference
    assert submission.name == ABOUT["name"]
    assert submission.links == ["https://example.org/report", "http://example.org/slides"]
    assert submission.attachments.count() == 1
    assert not submission.attachments.filter(uploaded_at__gt=submission.submitted_at).exists()
    assert results["step"].url == url(call, "confirmation")


def test_two_submits_at_once_make_one_submission_with_one_receipt(draft_at_check):
    """A double click: the second submit waits on the row lock the first holds, then finds it
    submitted. Held at the exact point (the first has read the row, in its transaction), so
    that without the lock the second runs through at once, and both write, every time."""
    locked, release = threading.Event(), threading.Event()
    results: dict = {}

    def submit(hold: bool):
        draft = Submission.objects.get()
        if not hold:
            return draft.submit()
        with connection.execute_wrapper(HoldTheLock(locked, release)):
            return draft.submit()

    first = in_thread(results, "first", lambda: submit(hold=True))
    assert locked.wait(timeout=WAIT)
    second = in_thread(results, "second", lambda: submit(hold=False))
    # The second either waits for the first's lock (as it must) or, without one, is done.
    deadline = time.monotonic() + WAIT
    while second.is_alive() and not someone_waits_for_a_lock():
        assert time.monotonic() < deadline, "the second submit neither waited nor finished"
        time.sleep(0.01)
    second_ran_through = not second.is_alive()
    release.set()
    first.join(timeout=3 * WAIT)
    second.join(timeout=3 * WAIT)

    assert not second_ran_through, "the second submit did not wait for the first's row lock"
    assert (results["first"], results["second"]) == (True, False)
    submission = Submission.objects.get()
    assert submission.is_submitted
    receipts = OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.RECEIPT)
    assert list(receipts.values_list("submission", flat=True)) == [submission.pk]


def test_a_review_saved_in_the_admin_as_the_submit_commits_keeps_the_submission(draft_at_check):
    call, cookie = draft_at_check
    draft = Submission.objects.get()
    reviewer = Client()
    # A call manager: reviewers never see drafts, but call managers do and may save a review.
    reviewer.force_login(make_call_manager())
    change_url = reverse("admin:submissions_submission_change", args=[draft.pk])
    review = {"review_status": "in_review", "reviewer_notes": "Looks promising.", "themes": []}
    review["assigned_reviewer"] = ""
    barrier, submitted = threading.Barrier(2), threading.Event()
    results: dict = {}

    def the_review():
        with connection.execute_wrapper(PauseBeforeFirstWrite(barrier, submitted)):
            return reviewer.post(change_url, review)

    def the_submit():
        barrier.wait(timeout=WAIT)
        response = twin(cookie).post(url(call, "check"))
        submission = Submission.objects.get()
        results["snapshot"] = {field: getattr(submission, field) for field in KEPT}
        submitted.set()
        return response

    threads = [in_thread(results, "review", the_review), in_thread(results, "submit", the_submit)]
    for thread in threads:
        thread.join(timeout=3 * WAIT)

    assert results["review"].status_code == 302, results["review"]
    assert results["submit"].status_code == 302, results["submit"]
    submission = Submission.objects.get()
    assert {field: getattr(submission, field) for field in KEPT} == results["snapshot"]
    assert submission.state == Submission.State.SUBMITTED
    assert (submission.review_status, submission.reviewer_notes) == (
        "in_review",
        review["reviewer_notes"],
    )


# One browser holds a draft: a browser that opens a link to it takes it, and the one that held
# it writes nothing from that moment, whatever it was doing at the time.


def link_opened_elsewhere(call) -> str:
    """Another browser, which has opened a link to the draft and is asked whether to continue:
    its session cookie. Its POST to /<call>/return/ moves the draft there."""
    draft = Submission.objects.get()
    token = ContributorLink.issue(draft, ContributorLink.Purpose.RESUME, sent_to="j@example.org")
    home = Client()
    assert home.get(f"/{call.slug}/return/{token}/").status_code == 302
    return home.cookies[settings.SESSION_COOKIE_NAME].value


def take_draft(call, cookie: str):
    return twin(cookie).post(f"/{call.slug}/return/")


STEPS_AND_SUBMIT = [*STEPS, "submit"]


def post_step_or_submit(client: Client, call, step: str, data):
    if step == "submit":
        return client.post(url(call, "check"))
    return post_step(client, call, step, data)


def step_or_submit_data(call, step: str) -> dict:
    return {} if step == "submit" else step_data(call, step)


def assert_nothing_written_but_the_move(before: dict, files: set[int], moved) -> None:
    draft = Submission.objects.get()
    assert draft.state == Submission.State.DRAFT
    assert {field: getattr(draft, field) for field in KEPT} == before
    assert set(draft.attachments.values_list("pk", flat=True)) == files
    assert draft.link_email == "j@example.org"
    # And the browser that took it (under the new session key the move gave it) holds it.
    cookie = moved.cookies[settings.SESSION_COOKIE_NAME].value
    assert twin(cookie).get(url(draft.call, "check")).status_code == 200


@pytest.mark.parametrize("step", STEPS_AND_SUBMIT)
def test_a_step_posted_as_another_browser_takes_the_draft_writes_nothing(draft_at_check, step):
    call, cookie = draft_at_check
    data = step_or_submit_data(call, step)
    home = link_opened_elsewhere(call)
    draft = Submission.objects.get()
    before = {field: getattr(draft, field) for field in KEPT}
    files = set(draft.attachments.values_list("pk", flat=True))
    barrier, moved = threading.Barrier(2), threading.Event()
    results: dict = {}

    def the_step():
        with connection.execute_wrapper(PauseBeforeFirstWrite(barrier, moved)):
            return post_step_or_submit(twin(cookie), call, step, data)

    def the_move():
        barrier.wait(timeout=WAIT)
        response = take_draft(call, home)
        moved.set()
        return response

    threads = [in_thread(results, "step", the_step), in_thread(results, "move", the_move)]
    for thread in threads:
        thread.join(timeout=3 * WAIT)

    assert results["move"].status_code == 302, results["move"]
    assert results["move"].url == url(call, "check")
    assert results["step"].status_code == 302, results["step"]
    assert_nothing_written_but_the_move(before, files, results["move"])
    # The browser that lost the race is told where its answers went, and sees nothing of them.
    told = twin(cookie).get(results["step"].url, follow=True)
    assert told.redirect_chain[-1][0] == f"/{call.slug}/continued-elsewhere/"


@pytest.mark.parametrize("step", STEPS_AND_SUBMIT)
def test_a_step_posted_while_another_browser_takes_the_draft_under_its_lock_writes_nothing(
    draft_at_check, step
):
    call, cookie = draft_at_check
    data = step_or_submit_data(call, step)
    home = link_opened_elsewhere(call)
    draft = Submission.objects.get()
    before = {field: getattr(draft, field) for field in KEPT}
    files = set(draft.attachments.values_list("pk", flat=True))
    locked, release = threading.Event(), threading.Event()
    results: dict = {}

    def the_move():
        with connection.execute_wrapper(HoldTheLock(locked, release)):
            return take_draft(call, home)

    move = in_thread(results, "move", the_move)
    assert locked.wait(timeout=WAIT)
    step_thread = in_thread(
        results, "step", lambda: post_step_or_submit(twin(cookie), call, step, data)
    )
    deadline = time.monotonic() + 5
    while not someone_waits_for_a_lock() and step_thread.is_alive():
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    release.set()
    move.join(timeout=3 * WAIT)
    step_thread.join(timeout=3 * WAIT)

    assert results["move"].status_code == 302, results["move"]
    assert results["step"].status_code == 302, results["step"]
    assert_nothing_written_but_the_move(before, files, results["move"])


def test_a_browser_taking_the_draft_while_it_is_being_sent_finds_it_sent(draft_at_check):
    call, cookie = draft_at_check
    home = link_opened_elsewhere(call)
    holder = Submission.objects.get().holder_sha256
    locked, release = threading.Event(), threading.Event()
    results: dict = {}

    def the_submit():
        with connection.execute_wrapper(HoldTheLock(locked, release)):
            return twin(cookie).post(url(call, "check"))

    submit = in_thread(results, "submit", the_submit)
    assert locked.wait(timeout=WAIT)
    move = in_thread(results, "move", lambda: take_draft(call, home))
    deadline = time.monotonic() + 5
    while not someone_waits_for_a_lock() and move.is_alive():
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert someone_waits_for_a_lock() or not move.is_alive()
    release.set()
    submit.join(timeout=3 * WAIT)
    move.join(timeout=3 * WAIT)

    submission = Submission.objects.get()
    assert submission.is_submitted and submission.holder_sha256 == holder
    assert results["submit"].url == url(call, "confirmation")
    assert submission.reference in twin(cookie).get(url(call, "confirmation")).content.decode()
    # The other browser took nothing: its link now says the evidence was sent.
    assert results["move"].url == f"/{call.slug}/return/"
    assert "already been sent" in twin(home).get(results["move"].url).content.decode()

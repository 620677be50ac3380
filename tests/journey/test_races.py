"""A confirmed submission stays submitted: no step of the journey can write to it afterwards.

Each test races one step's POST against the final submit, in real threads on PostgreSQL, in the
two orders that matter: the submit commits while the step is between reading the draft and
writing it; or the submit holds its row lock while the step tries to write. The pause is made by
a database execute wrapper in the step's (or the submit's) own thread, with a threading.Barrier
and events, so both orders happen every time instead of now and then.
"""

import threading

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
from ..races import WAIT, InThread, finish, someone_waits_for_a_lock, waits_for_a_lock

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="races need concurrent transactions and row locks: SQLite serialises every write",
    ),
]

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
    seen: dict = {}

    def the_step():
        with connection.execute_wrapper(PauseBeforeFirstWrite(barrier, submitted)):
            return post_step(twin(cookie), call, step, data)

    def the_submit():
        barrier.wait(timeout=WAIT)
        response = twin(cookie).post(url(call, "check"))
        submission = Submission.objects.get()
        seen["snapshot"] = {field: getattr(submission, field) for field in KEPT}
        seen["files"] = set(submission.attachments.values_list("pk", flat=True))
        submitted.set()
        return response

    stepped, submitted_page = finish(InThread(the_step), InThread(the_submit))

    assert submitted_page.status_code == 302, submitted_page
    assert stepped.status_code == 302, stepped
    assert seen["snapshot"]["state"] == Submission.State.SUBMITTED
    assert_the_confirmed_submission_is_kept(seen["snapshot"], seen["files"])
    # The tab that lost the race shows the confirmation, as the one that won does.
    assert stepped.url == url(call, "confirmation")


@pytest.mark.parametrize("step", STEPS)
def test_a_step_posted_while_the_submit_holds_its_lock_changes_nothing(draft_at_check, step):
    call, cookie = draft_at_check
    data = step_data(call, step)
    locked, release = threading.Event(), threading.Event()

    def the_submit():
        with connection.execute_wrapper(HoldTheLock(locked, release)):
            return twin(cookie).post(url(call, "check"))

    submit = InThread(the_submit)
    assert locked.wait(timeout=WAIT)
    step_thread = InThread(lambda: post_step(twin(cookie), call, step, data))
    # Let the step run into the lock (a step that takes no lock simply runs on), then go on.
    waits_for_a_lock(step_thread, seconds=5)
    release.set()
    submitted_page, stepped = finish(submit, step_thread)

    assert submitted_page.status_code == 302, submitted_page
    assert stepped.status_code == 302, stepped
    submission = Submission.objects.get()
    assert submission.state == Submission.State.SUBMITTED
    assert submission.reference
    assert submission.name == ABOUT["name"]
    assert submission.links == ["https://example.org/report", "http://example.org/slides"]
    assert submission.attachments.count() == 1
    assert not submission.attachments.filter(uploaded_at__gt=submission.submitted_at).exists()
    assert stepped.url == url(call, "confirmation")


def test_two_submits_at_once_make_one_submission_with_one_receipt(draft_at_check):
    """A double click: the second submit waits on the row lock the first holds, then finds it
    submitted. Held at the exact point (the first has read the row, in its transaction), so
    that without the lock the second runs through at once, and both write, every time."""
    locked, release = threading.Event(), threading.Event()

    def submit(hold: bool):
        draft = Submission.objects.get()
        if not hold:
            return draft.submit()
        with connection.execute_wrapper(HoldTheLock(locked, release)):
            return draft.submit()

    first = InThread(lambda: submit(hold=True))
    assert locked.wait(timeout=WAIT)
    second = InThread(lambda: submit(hold=False))
    # The second either waits for the first's lock (as it must) or, without one, is done.
    waited = waits_for_a_lock(second)
    second_ran_through = not second.is_alive()
    release.set()
    assert waited or second_ran_through, "the second submit neither waited nor finished"
    submitted = finish(first, second)

    assert not second_ran_through, "the second submit did not wait for the first's row lock"
    assert submitted == [True, False]
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
    seen: dict = {}

    def the_review():
        with connection.execute_wrapper(PauseBeforeFirstWrite(barrier, submitted)):
            return reviewer.post(change_url, review)

    def the_submit():
        barrier.wait(timeout=WAIT)
        response = twin(cookie).post(url(call, "check"))
        submission = Submission.objects.get()
        seen["snapshot"] = {field: getattr(submission, field) for field in KEPT}
        submitted.set()
        return response

    reviewed, submitted_page = finish(InThread(the_review), InThread(the_submit))

    assert reviewed.status_code == 302, reviewed
    assert submitted_page.status_code == 302, submitted_page
    submission = Submission.objects.get()
    assert {field: getattr(submission, field) for field in KEPT} == seen["snapshot"]
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

    def the_step():
        with connection.execute_wrapper(PauseBeforeFirstWrite(barrier, moved)):
            return post_step_or_submit(twin(cookie), call, step, data)

    def the_move():
        barrier.wait(timeout=WAIT)
        response = take_draft(call, home)
        moved.set()
        return response

    stepped, took = finish(InThread(the_step), InThread(the_move))

    assert took.status_code == 302, took
    assert took.url == url(call, "check")
    assert stepped.status_code == 302, stepped
    assert_nothing_written_but_the_move(before, files, took)
    # The browser that lost the race is told where its answers went, and sees nothing of them.
    told = twin(cookie).get(stepped.url, follow=True)
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

    def the_move():
        with connection.execute_wrapper(HoldTheLock(locked, release)):
            return take_draft(call, home)

    move = InThread(the_move)
    assert locked.wait(timeout=WAIT)
    step_thread = InThread(lambda: post_step_or_submit(twin(cookie), call, step, data))
    waits_for_a_lock(step_thread, seconds=5)
    release.set()
    took, stepped = finish(move, step_thread)

    assert took.status_code == 302, took
    assert stepped.status_code == 302, stepped
    assert_nothing_written_but_the_move(before, files, took)


def test_a_browser_taking_the_draft_while_it_is_being_sent_finds_it_sent(draft_at_check):
    call, cookie = draft_at_check
    home = link_opened_elsewhere(call)
    holder = Submission.objects.get().holder_sha256
    locked, release = threading.Event(), threading.Event()

    def the_submit():
        with connection.execute_wrapper(HoldTheLock(locked, release)):
            return twin(cookie).post(url(call, "check"))

    submit = InThread(the_submit)
    assert locked.wait(timeout=WAIT)
    move = InThread(lambda: take_draft(call, home))
    waits_for_a_lock(move, seconds=5)
    assert someone_waits_for_a_lock() or not move.is_alive()
    release.set()
    submitted_page, took = finish(submit, move)

    submission = Submission.objects.get()
    assert submission.is_submitted and submission.holder_sha256 == holder
    assert submitted_page.url == url(call, "confirmation")
    assert submission.reference in twin(cookie).get(url(call, "confirmation")).content.decode()
    # The other browser took nothing: its link now says the evidence was sent.
    assert took.url == f"/{call.slug}/return/"
    assert "already been sent" in twin(home).get(took.url).content.decode()

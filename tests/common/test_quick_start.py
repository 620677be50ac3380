"""The quick start under real use: `make run` itself, on a SQLite file of its own.

`make run` migrates, then runs the development server (threads) and two task workers
(`manage.py db_worker`: the emails' on queue "default", the synthesis pack PDF's on queue
"documents") as three processes writing to one SQLite file. While the workers send their emails
and make a PDF, contributors walk the journey and ask for save-and-return links, and a member of
staff adds users and saves reviews with "Save and review next": no request may fail ("database
is locked" was "Sorry, the service is unavailable"), every decision and user must be saved,
every email sent, the PDF made, and Ctrl-C must stop all three processes.
"""

import collections
import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from django.conf import settings

from ..journey_steps import CALL, REFERENCE, csrf_token, walk

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse"
CONTRIBUTORS, JOURNEYS_EACH = 2, 3
USERS_ADDED, REVIEWS = 8, 8
# Set by the test settings for the suite's own use; the quick start has none of them.
NOT_THE_QUICK_STARTS = ("DJANGO_SETTINGS_MODULE", "REDIS_URL", "TEST_CACHE_PREFIX", "SECRET_KEY")

pytestmark = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="the quick start runs on SQLite: this test runs with the SQLite suite",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class QuickStart:
    url: str
    database: Path
    process: subprocess.Popen
    env: dict[str, str]
    output: list[str] = field(default_factory=list)

    def manage(self, *args: str) -> None:
        subprocess.run(  # noqa: S603 - our own manage.py
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=300,
        )

    def query(self, sql: str) -> list[tuple]:
        with sqlite3.connect(self.database, timeout=30) as db:
            return db.execute(sql).fetchall()


def _read(process: subprocess.Popen, lines: list[str]) -> None:
    for line in process.stdout:  # type: ignore[union-attr]
        lines.append(line)


@pytest.fixture
def quick_start(tmp_path) -> Iterator[QuickStart]:
    port = free_port()
    database = tmp_path / "db.sqlite3"
    env = {key: value for key, value in os.environ.items() if key not in NOT_THE_QUICK_STARTS}
    env |= {
        "DATABASE_URL": f"sqlite:///{database}",
        "ATTACHMENTS_ROOT": str(tmp_path / "attachments"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("EMAIL_HOST", None)  # emails to the worker's console, as in the quick start
    process = subprocess.Popen(  # noqa: S603 - make, in this repository
        ["make", "--no-print-directory", "run", f"PORT={port}"],  # noqa: S607
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Its own process group, with Ctrl-C's default meaning, as in a terminal.
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    commands_env = {**env, "DEBUG": "1", "DJANGO_SUPERUSER_PASSWORD": PASSWORD}
    running = QuickStart(f"http://127.0.0.1:{port}", database, process, commands_env)
    reader = threading.Thread(target=_read, args=(process, running.output), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 300  # migrating a new database on a busy machine
        while time.monotonic() < deadline:
            assert process.poll() is None, "".join(running.output)[-3000:]
            try:
                if requests.get(running.url + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        else:
            pytest.fail("make run did not answer within 300 s:\n" + "".join(running.output)[-3000:])
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


class Requests:
    """Every answer the server gave, and those a person would see as a failure."""

    def __init__(self, base: str):
        self.base = base
        self.lock = threading.Lock()
        self.answers: collections.Counter[str] = collections.Counter()
        self.failures: list[str] = []

    def thread(self, person, *args) -> threading.Thread:
        """A person at work in a thread of their own; what stops them is a failure too."""

        def work() -> None:
            try:
                person(self, *args)
            except Exception as error:
                with self.lock:
                    self.failures.append(f"{person.__name__} stopped: {error!r}")

        return threading.Thread(target=work)

    def session(self) -> requests.Session:
        session = requests.Session()
        session.headers["Origin"] = self.base  # as a browser sends with a form
        return session

    def check(self, what: str, response: requests.Response, expect: int) -> requests.Response:
        title = re.search(r"<title>(.*?)</title>", response.text)
        with self.lock:
            self.answers[what] += 1
            if response.status_code != expect:
                shown = title.group(1) if title else response.text[:200]
                self.failures.append(f"{what}: {response.status_code} {shown}")
        return response

    def post(self, session: requests.Session, what: str, path: str, data: dict, expect=302):
        page = self.check(f"GET {what}", session.get(self.base + path, timeout=60), 200)
        data = {**data, "csrfmiddlewaretoken": csrf_token(page.text)}
        response = session.post(self.base + path, data, allow_redirects=False, timeout=60)
        return self.check(f"POST {what}", response, expect)


def journey(load: Requests, email: str) -> str:
    """One contributor's journey, saving for later once on the way; their reference."""
    session = load.session()

    def get(path, step) -> str:
        return load.check(f"GET {step.name}", session.get(load.base + path, timeout=60), 200).text

    def post(path, step, data) -> None:
        if step.name == "about-you":
            data = {**data, "email": email}
            # Save and come back later, and a link by email, before going on.
            asked = session.post(
                load.base + path, {**data, "save_for_later": "1"}, allow_redirects=False, timeout=60
            )
            load.check("POST about-you (save for later)", asked, 302)
            load.post(session, "save", f"/{CALL}/save/", {"email": email})
        sent = session.post(load.base + path, data, allow_redirects=False, timeout=60)
        load.check(f"POST {step.name}", sent, 302)
        assert step.then in sent.headers.get("Location", ""), (step.name, sent.headers)

    walk(get, post)
    page = session.get(f"{load.base}/{CALL}/submitted/", timeout=60).text
    return REFERENCE.findall(page)[0]


def contributor(load: Requests, number: int, references: list[str]) -> None:
    for journey_number in range(JOURNEYS_EACH):
        references.append(journey(load, f"contributor{number}.{journey_number}@example.org"))


def staff_adds_users(load: Requests) -> None:
    session = load.session()
    load.post(
        session,
        "sign-in",
        "/admin/login/?next=/admin/",
        {"username": "carol", "password": PASSWORD},
    )
    for number in range(USERS_ADDED):
        user = {
            "username": f"reviewer{number}",
            "usable_password": "true",
            "password1": "a long pass phrase 4 reviewing",
            "password2": "a long pass phrase 4 reviewing",
            "_save": "Save",
        }
        load.post(session, "add user", "/admin/auth/user/add/", user)


def staff_reviews_next(load: Requests, reviewed: list[str]) -> None:
    session = load.session()
    load.post(
        session,
        "sign-in",
        "/admin/login/?next=/admin/",
        {"username": "carol", "password": PASSWORD},
    )
    queue = "/admin/submissions/submission/?review_status__exact=new&o=1"
    listed = load.check("GET review queue", session.get(load.base + queue, timeout=60), 200)
    path = re.search(r'href="(/admin/submissions/submission/\d+/change/[^"]*)"', listed.text)
    assert path is not None, "no submission to review"
    next_path = path.group(1).replace("&amp;", "&")
    for _ in range(REVIEWS):
        decision = {"review_status": "in_review", "reviewer_notes": "Read.", "_review_next": "1"}
        saved = load.post(session, "save and review next", next_path, decision)
        reviewed.append(re.search(r"/submission/(\d+)/", next_path).group(1))
        next_path = saved.headers.get("Location", "").removeprefix(load.base)
        if "/change/" not in next_path:
            break


def staff_asks_for_the_pdf(load: Requests, call_id: int) -> None:
    session = load.session()
    load.post(
        session,
        "sign-in",
        "/admin/login/?next=/admin/",
        {"username": "carol", "password": PASSWORD},
    )
    path = f"/admin/submissions/call/{call_id}/pack/pdf/"
    load.post(session, "ask for the PDF", path, {"action": "download"})


def test_make_run_serves_a_journey_and_staff_at_once_with_the_worker_sending(quick_start):
    # The server (its autoreloader, and the server it restarts) and one worker per queue.
    running = make_runs(quick_start.process.pid)
    assert running.pop("runserver", 0) >= 1
    assert running == {"db_worker --queue-name default": 1, "db_worker --queue-name documents": 1}
    quick_start.manage(
        "createsuperuser", "--noinput", "--username", "carol", "--email", "c@example.org"
    )
    quick_start.manage("seed_demo", "--submissions", "20", "--seed", "1")
    ((call_id,),) = quick_start.query(
        "select id from submissions_call where slug = 'what-works-social-media'"
    )
    load = Requests(quick_start.url)
    references: list[str] = []
    reviewed: list[str] = []
    threads = [
        *(load.thread(contributor, number, references) for number in range(CONTRIBUTORS)),
        load.thread(staff_adds_users),
        load.thread(staff_reviews_next, reviewed),
        load.thread(staff_asks_for_the_pdf, call_id),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)

    assert load.failures == []
    assert load.answers["POST check-your-answers"] == CONTRIBUTORS * JOURNEYS_EACH
    assert load.answers["POST add user"] == USERS_ADDED
    assert len(reviewed) == REVIEWS
    assert len(references) == CONTRIBUTORS * JOURNEYS_EACH
    # What each save said it saved is in the database.
    users = {name for (name,) in quick_start.query("select username from auth_user")}
    assert {f"reviewer{n}" for n in range(USERS_ADDED)} <= users
    statuses = dict(quick_start.query("select id, review_status from submissions_submission"))
    assert [statuses[int(pk)] for pk in reviewed] == ["in_review"] * REVIEWS
    # The worker sends every receipt and link (to its console, in the quick start).
    deadline = time.monotonic() + 120
    while quick_start.query("select 1 from submissions_outgoingemail where state != 'sent'"):
        assert time.monotonic() < deadline, quick_start.query(
            "select kind, state, last_error from submissions_outgoingemail where state != 'sent'"
        )
        time.sleep(1)
    kinds = collections.Counter(
        k for (k,) in quick_start.query("select kind from submissions_outgoingemail")
    )
    assert kinds == {
        "receipt": CONTRIBUTORS * JOURNEYS_EACH,
        "resume_link": CONTRIBUTORS * JOURNEYS_EACH,
    }
    # The documents' worker makes the synthesis pack's PDF.
    deadline = time.monotonic() + 300
    while (state := pdf_state(quick_start)) != "ready":
        assert state in ("waiting", "making") and time.monotonic() < deadline, (
            state,
            quick_start.query("select problem from submissions_synthesispackpdf"),
        )
        time.sleep(1)
    printed = "".join(quick_start.output)
    assert all(reference in printed for reference in references)
    assert "database is locked" not in printed

    # Ctrl-C stops all three processes (a worker finishes the task in hand first).
    os.killpg(quick_start.process.pid, signal.SIGINT)
    quick_start.process.wait(timeout=60)
    with pytest.raises(requests.ConnectionError):
        requests.get(quick_start.url + "/healthz", timeout=5)
    deadline = time.monotonic() + 60
    while left := still_running(quick_start.process.pid):
        assert time.monotonic() < deadline, f"still running after Ctrl-C: {left}"
        time.sleep(0.5)


def pdf_state(quick_start: QuickStart) -> str:
    ((state,),) = quick_start.query("select state from submissions_synthesispackpdf")
    return state


def make_runs(group: int) -> collections.Counter[str]:
    """What each Python process in `make run`'s process group runs ("runserver", or
    "db_worker --queue-name default"), read from its whole command line (ps -ww); not the
    shell's, whose command line is the recipe."""
    listed = subprocess.run(  # noqa: S603
        ["ps", "-ww", "-o", "stat=,args=", "-g", str(group)],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    )
    running: collections.Counter[str] = collections.Counter()
    for line in listed.stdout.splitlines():
        stat, _, args = line.strip().partition(" ")
        command = args.split()
        if "Z" in stat or "python" not in Path(command[0]).name or "manage.py" not in command:
            continue
        what = command[command.index("manage.py") + 1 :]
        if what[0] == "db_worker":
            queue = what[what.index("--queue-name") + 1] if "--queue-name" in what else "default"
            running[f"db_worker --queue-name {queue}"] += 1
        else:
            running[what[0]] += 1
    return running


def still_running(group: int) -> str:
    """The processes left in `make run`'s process group (none once everything has stopped)."""
    listed = subprocess.run(  # noqa: S603
        ["ps", "-o", "pid=,stat=,args=", "-g", str(group)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    # A zombie has stopped; only its parent has not collected it yet.
    return "\n".join(line for line in listed.stdout.splitlines() if " Z" not in line)

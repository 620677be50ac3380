"""Real threads at once, for the race tests on PostgreSQL (SQLite serialises every write).

Each piece of work runs in a thread of its own, on a database connection of its own that the
thread closes when it ends (one left open keeps the test database from being dropped at the
end of the run); what the work returned, or raised, comes back to the test.
"""

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection

WAIT = 20  # seconds; far more than any step of a race takes, short enough to fail, not hang


class InThread(threading.Thread):
    """work() in a real thread of its own, started at once; finish() gives back its result."""

    def __init__(self, work: Callable[[], Any]):
        super().__init__(daemon=True)
        self.work = work
        self.returned: Any = None
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.returned = self.work()
        except BaseException as error:  # raised in the test by finish(), not lost in the thread
            self.error = error
        finally:
            connection.close()


def finish(*threads: InThread, timeout: float = 3 * WAIT) -> list:
    """Wait for every thread; return what each returned, in order, or raise what one raised."""
    for thread in threads:
        thread.join(timeout=timeout)
    for thread in threads:
        if thread.is_alive():
            raise AssertionError(f"a thread was still running after {timeout} seconds")
        if thread.error is not None:
            raise thread.error
    return [thread.returned for thread in threads]


def at_once(*works: Callable[[], Any]) -> list:
    """Run each callable in a thread of its own, all let go together; return their results."""
    barrier = threading.Barrier(len(works))

    def let_go_with_the_others(work: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            barrier.wait(timeout=WAIT)
            return work()

        return run

    return finish(*[InThread(let_go_with_the_others(work)) for work in works])


def someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def waits_for_a_lock(thread: InThread, seconds: float = WAIT) -> bool:
    """Whether the database shows a session waiting for a lock before `thread` ends or
    `seconds` pass."""
    deadline = time.monotonic() + seconds
    while thread.is_alive() and time.monotonic() < deadline:
        if someone_waits_for_a_lock():
            return True
        time.sleep(0.02)
    return someone_waits_for_a_lock()


class HoldAfterWriting:
    """An execute wrapper for the first thread: once `table` is written by a statement that
    starts with one of `writes`, or its rows are locked (FOR UPDATE), wait until released."""

    def __init__(self, table: str, writes: tuple[str, ...]):
        self.table, self.writes, self.done = table, writes, False
        self.written, self.release = threading.Event(), threading.Event()

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        words = sql.lstrip().upper()
        writes = words.startswith(self.writes) or "FOR UPDATE" in words
        if not self.done and writes and f'"{self.table.upper()}"' in words:
            self.done = True
            self.written.set()
            assert self.release.wait(timeout=WAIT)
        return result


def second_waits_for_the_first(table: str, writes: tuple[str, ...], first, second) -> list:
    """first() is held just after it writes (or locks) `table`; second() starts then; the first
    goes on, and commits, only once the database shows the second waiting for its lock. Returns
    what both returned."""
    hold = HoldAfterWriting(table, writes)

    def held() -> Any:
        with connection.execute_wrapper(hold):
            return first()

    holder = InThread(held)
    assert hold.written.wait(timeout=WAIT)
    waiter = InThread(second)
    waited = waits_for_a_lock(waiter)
    hold.release.set()
    assert waited, "the second never waited for the first one's lock"
    return finish(holder, waiter)

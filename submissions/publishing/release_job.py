"""A big release, published by the task worker rather than in the request.

A release of 300,000 contributions takes minutes (docs/benchmarks.md): past a proxy's timeout,
and an app server's thread held all that while. So above `RELEASE_IN_REQUEST_MAX` publishable
contributions, the call manager's press asks for it (`request_release`: a count, one row
written, one task queued in the same transaction) and `manage.py db_worker` publishes it
(`publish_release_job`) with `publish_release`, in one transaction as ever: nothing is public
until all of it is. The admin's release page shows how far it has got, from the job's row.

Twice is never published: a second press (or a second call manager) while the job waits or runs
finds it in progress (ReleaseJob.request's conditional UPDATE), and publish_release re-checks
the number under the call's row lock, so even a job taken for lost and asked again cannot
publish the same release twice.

Progress: the publishing transaction commits only at the end, so the count of contributions
written is recorded on a second connection of its own (PostgreSQL; on SQLite, which has one
writer, the page shows the job in progress without a count).
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone
from django_tasks import task

from ..models import Call, Release, ReleaseJob, Submission
from .releases import publish_release

logger = logging.getLogger(__name__)

# As the pack's PDF: below the emails (0), so a waiting email goes first.
PRIORITY = -10
PROGRESS_EVERY = 1.0  # seconds between two writes of the count


def in_background(publishable: int) -> bool:
    return publishable > settings.RELEASE_IN_REQUEST_MAX


def request_release(
    call: Call, *, number: int, by=None, notes: str = "", total: int | None = None
) -> tuple[ReleaseJob, bool]:
    """Ask the worker to publish release `number`: (the job, whether this press started it)."""
    if total is None:
        total = Submission.objects.publishable(call).count()
    with transaction.atomic():
        job, started = ReleaseJob.request(call, number=number, by=by, notes=notes, total=total)
        if started:
            publish_release_job.enqueue(job.pk, str(job.job))
    return job, started


class Progress:
    """Writes the job's count of contributions written, at most once a PROGRESS_EVERY, on a
    connection of its own that commits each write (PostgreSQL only); never waits for a lock."""

    def __init__(self, job: ReleaseJob):
        self.job = job
        self.last = 0.0
        self.connection = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self.connection = connections.create_connection("default")

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if self.connection is None or now - self.last < PROGRESS_EVERY:
            return
        self.last = now
        table = self.connection.ops.quote_name(ReleaseJob._meta.db_table)
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '1s'")
                cursor.execute(
                    f"UPDATE {table} SET done = %s WHERE id = %s AND job = %s",  # noqa: S608  (our table's name)
                    [done, self.job.pk, self.job.job],
                )
        except Exception:
            logger.exception("Could not record the progress of release job %s", self.job.pk)
            self.close()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


@task(priority=PRIORITY)
def publish_release_job(job_id: int, job: str) -> str:
    """Publish the release a job asks for, if it is still the one asked for."""
    if not ReleaseJob.claim(job_id, job):
        return "not due"
    row = ReleaseJob.objects.select_related("call", "requested_by").get(pk=job_id)
    progress = Progress(row)
    try:
        release = publish_release(
            row.call,
            number=row.number,
            by=row.requested_by,
            notes=row.notes,
            progress=progress,
        )
    except Exception as error:
        logger.exception("Release %s of call %s could not be published", row.number, row.call_id)
        row.finish(release=None, problem=f"{type(error).__name__}: {error}"[:1000])
        return "failed"
    finally:
        progress.close()
    if release is None:
        row.finish(
            release=None,
            problem=f"Release {row.number} was already published: nothing was published again.",
        )
        return "already published"
    row.finish(release=release)
    return "published"


@dataclass
class JobStatus:
    """What the release page says of the last job: in progress (how far), or how it ended."""

    job: ReleaseJob | None
    in_progress: bool = False
    stalled: bool = False
    failed: bool = False
    elapsed: float = 0.0

    @property
    def percent(self) -> int:
        if self.job is None or not self.job.total:
            return 0
        return min(100, round(100 * self.job.done / self.job.total))

    @property
    def refresh(self) -> int:
        """Seconds between the page's updates while it is in progress (0: no updates)."""
        return 5 if self.in_progress else 0


def job_status(call: Call, latest: Release | None, at: datetime | None = None) -> JobStatus:
    """The call's last job as its release page shows it (one query)."""
    job = ReleaseJob.objects.filter(call=call).first()
    if job is None:
        return JobStatus(None)
    at = at or timezone.now()
    # Published, whatever the row says (its worker may have died after the commit).
    published = latest is not None and latest.number >= job.number
    return JobStatus(
        job,
        in_progress=job.in_progress and not published and not job.stalled(at),
        stalled=job.in_progress and not published and job.stalled(at),
        failed=job.state == ReleaseJob.State.FAILED and not published,
        elapsed=(at - (job.started_at or job.requested_at)).total_seconds(),
    )

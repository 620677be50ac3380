"""Run the email worker's tasks in the test's own thread and transaction.

The polling loop of `manage.py db_worker` closes stale connections between tasks, which would
end a test's transaction; this loop claims ready tasks the same way and runs each through the
worker's own `run_task`, on every queue (the emails' "default" and the PDF's "documents").
tests/outbox/test_email_worker.py runs the real command as a process, one queue at a time.
"""

from django.db import transaction
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult


def run_worker(max_tasks: int = 100) -> int:
    """Run every task that is ready now (not those whose run_after is later); return how many."""
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    ran = 0
    while ran < max_tasks:
        with transaction.atomic():
            result = DBTaskResult.objects.ready().get_locked()
            if result is None:
                return ran
            result.claim(worker.worker_id)
        worker.run_task(result)
        ran += 1
    raise AssertionError(f"more than {max_tasks} tasks: a task that queues itself forever?")

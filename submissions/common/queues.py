"""The task queues (settings.TASKS lists them), each served by its own worker (`make run`,
docs/deployment.md): a worker does one task at a time.

- EMAILS ("default"): the outbox's emails, each a few seconds at most. Nothing else runs there,
  so no receipt or link waits behind minutes of work.
- LONG_JOBS ("documents"): whatever takes minutes (the synthesis pack's PDF, a big release,
  queueing a release's or the toolkit's emails). A long job may wait behind another; an email
  never does.
"""

EMAILS = "default"
LONG_JOBS = "documents"
# Below the emails' (0): a worker that takes both queues (`--queue-name '*'`) still sends a
# waiting email before it starts a long job.
LONG_JOB_PRIORITY = -10

"""Queue the daily digest of new submissions for every call that asks for one (run by cron)."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from submissions.models import Call, OutgoingEmail, Submission
from submissions.outbox import queue as outbox


class Command(BaseCommand):
    help = (
        "Queue a digest of the submissions since the last one, for each call whose staff "
        "notification is a daily digest. Run once a day, e.g. from cron."
    )

    def handle(self, *args, **options) -> None:
        # A few minutes back: a submission stamped just before now may not have committed yet,
        # and the next digest starts where this one ends.
        until = timezone.now() - timedelta(minutes=5)
        digest_calls = Call.objects.filter(notification_mode=Call.NotificationMode.DAILY_DIGEST)
        for call_id in digest_calls.values_list("pk", flat=True):
            with transaction.atomic():
                # The lock makes a second run at the same moment wait, then find nothing new.
                call = Call.objects.select_for_update().get(pk=call_id)
                since = call.last_digest_at
                new = Submission.objects.filter(
                    call=call, state=Submission.State.SUBMITTED, submitted_at__lt=until
                )
                if since is not None:
                    new = new.filter(submitted_at__gte=since)
                count = new.count()
                if count and call.notification_list:
                    outbox.queue(
                        OutgoingEmail.Kind.DIGEST,
                        call.notification_list,
                        call,
                        params={
                            "since": since.isoformat() if since else None,
                            "until": until.isoformat(),
                        },
                    )
                call.last_digest_at = until
                call.save(update_fields=["last_digest_at"])
            self.stdout.write(f"{call.slug}: {count} new submission(s)")

"""Receipt and notification emails, sent after the submission's transaction commits."""

import logging
import time

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from .models import Submission

logger = logging.getLogger(__name__)
ATTEMPTS = 3


def _send_with_retries(message: EmailMessage) -> bool:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            message.send()
            return True
        except OSError:
            # SMTP servers drop connections now and then; a short pause usually clears it.
            logger.warning("Email attempt %s of %s failed", attempt, ATTEMPTS, exc_info=True)
            if attempt < ATTEMPTS:
                time.sleep(0.5 * attempt)
        except Exception:
            # Not worth retrying (a bad header, a broken backend); never the contributor's error.
            logger.exception("Email could not be sent")
            return False
    return False


def send_receipts(submission_pk: int) -> None:
    """Send the contributor's receipt and tell the call's staff; a failure is logged, not raised."""
    submission = Submission.objects.select_related("call").get(pk=submission_pk)
    call = submission.call
    context = {"submission": submission, "call": call, "site_url": settings.SITE_URL}
    receipt = EmailMessage(
        subject=f"Your evidence was received: reference {submission.reference}",
        body=render_to_string("submissions/email/receipt.txt", context),
        to=[submission.email],
        reply_to=[call.contact_email],
    )
    if not _send_with_retries(receipt):
        logger.error("Receipt for %s could not be sent", submission.reference)
    if call.notification_list:
        notice = EmailMessage(
            subject=f"New submission {submission.reference} to {call.title}",
            body=render_to_string("submissions/email/notification.txt", context),
            to=call.notification_list,
        )
        if not _send_with_retries(notice):
            logger.error("Staff notification for %s could not be sent", submission.reference)

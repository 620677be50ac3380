"""Single-purpose links emailed to contributors: only each token's SHA-256 is stored."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from ..common.site import absolute
from .call import Call
from .submission import Submission

# For a call that accepts late evidence (and so never closes), a save-and-return link lasts
# this long after the draft was last saved.
DAYS_AFTER_LAST_SAVE = 30


def hash_link_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ContributorLink(models.Model):
    """A single-purpose link emailed to a contributor; only the token's SHA-256 is stored.

    One row per submission and purpose: issuing a new link replaces the hash, so every earlier
    link for that purpose stops working. The raw token (256 bits) exists only in the email.
    """

    class Purpose(models.TextChoices):
        RESUME = "resume", "Save and come back later"
        STATUS = "status", "Submission status"

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="contributor_links"
    )
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Where the email with this link went: whoever opens it has that mailbox (resume links).
    sent_to = models.EmailField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "purpose"], name="contributor_link_one_per_purpose"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} link for {self.submission_id}"

    @classmethod
    def issue(
        cls,
        submission: Submission,
        purpose: str,
        at: datetime | None = None,
        raw: str = "",
        sent_to: str = "",
    ) -> str:
        """A new link for this purpose, replacing any earlier one; returns the raw token.

        `raw` is for a token the caller derives itself (see outbox/render.py, stable_link_token); by
        default it is 32 random bytes. `sent_to` is the address the link is emailed to.
        """
        raw = raw or secrets.token_urlsafe(32)
        cls.objects.update_or_create(
            submission=submission,
            purpose=purpose,
            defaults={
                "token_sha256": hash_link_token(raw),
                "created_at": at or timezone.now(),
                "sent_to": sent_to,
            },
        )
        return raw

    @classmethod
    def find(cls, raw: str, purpose: str) -> "ContributorLink | None":
        """The link this token opens for this purpose, or None (unknown, replaced, or forged)."""
        if not raw or len(raw) > 100:
            return None
        links = cls.objects.select_related("submission__call")
        return links.filter(purpose=purpose, token_sha256=hash_link_token(raw)).first()

    def move_draft(self, holder_sha256: str, at: datetime | None = None) -> Submission | None:
        """Continue this resume link's draft in the browser whose secret hashes to
        `holder_sha256`: from now on only that browser may write to it. Returns the draft, or
        None when the link no longer opens it (replaced, expired, or the draft was sent).

        Under the draft's row lock, which the submit and every file change take too, and with
        the link's row locked: a link replaced a moment ago moves nothing, a draft being sent
        is sent by the browser that held it, and a step saved at the same moment by the browser
        that held it lands before the move or not at all (Submission.update_draft).
        """
        at = at or timezone.now()
        with transaction.atomic():
            rows = Submission.objects.select_for_update().select_related("call")
            draft = rows.filter(pk=self.submission_id, state=Submission.State.DRAFT).first()
            current = ContributorLink.objects.select_for_update().filter(
                pk=self.pk, token_sha256=self.token_sha256
            )
            still = list(current.values_list("pk", flat=True))
            if draft is None or not still or at >= resume_link_expires_at(draft):
                return None
            if not draft.call.accepts_submissions(at):
                return None
            draft.holder_sha256 = holder_sha256
            draft.link_email = self.sent_to or draft.link_email
            # Not updated_at: moving is not saving, and the retention counts from the last save.
            draft.save(update_fields=["holder_sha256", "link_email"])
        return draft


def resume_link_expires_at(submission: Submission) -> datetime:
    """Until the call closes; for a call accepting late evidence, 30 days after the last save
    (and never before the deadline)."""
    call = submission.call
    if call.late_policy == Call.LatePolicy.ACCEPT_LATE:
        return max(call.closed_from, submission.updated_at + timedelta(days=DAYS_AFTER_LAST_SAVE))
    return call.closed_from


def status_link_url(submission: Submission, raw: str = "") -> str:
    """A new absolute status link for the receipt; any earlier status link stops working."""
    raw = ContributorLink.issue(submission, ContributorLink.Purpose.STATUS, raw=raw)
    return absolute(reverse("status", args=[submission.call.slug, raw]))

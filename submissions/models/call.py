"""Calls, their questions and themes, and the reviewers assigned to them."""

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models.functions import Coalesce
from django.dispatch import Signal
from django.utils import timezone

from ..common.text import validate_single_line

# The deadline rule: a deadline is a whole minute, so 23:59 is on time up to 23:59:59.999999.
# Call.is_on_time() and CallQuerySet.open_at() (its SQL form) both read this one constant.
DEADLINE_MINUTE = timedelta(minutes=1)

# Sent by Call.mark_toolkit_published() inside its transaction, once per call, with call=the
# call: the outbox queues the contributors' emails in the same transaction (outbox/queue.py).
toolkit_published = Signal()


class NothingReleased(Exception):
    """The toolkit cannot be marked published before the call's first release: its emails
    credit each contribution as a release shows it, with a link to its page."""


def consent_hash(wording: str) -> str:
    return hashlib.sha256(wording.encode()).hexdigest()


class CallQuerySet(models.QuerySet):
    def published(self) -> "CallQuerySet":
        return self.filter(published=True)

    def open_at(self, at: datetime) -> "CallQuerySet":
        """Published calls taking submissions at `at`: open, or closed but accepting late ones.

        `closes_at > at - DEADLINE_MINUTE` is Call.is_on_time(at) (`at < closes_at +
        DEADLINE_MINUTE`) written for the database.
        """
        on_time = models.Q(closes_at__gt=at - DEADLINE_MINUTE)
        late_ok = models.Q(late_policy=Call.LatePolicy.ACCEPT_LATE)
        return self.published().filter(opens_at__lte=at).filter(on_time | late_ok)

    def with_credits_shown(self) -> "CallQuerySet":
        """Annotate `credits_shown`: a release is published and no manager hid the credits."""
        releases = self.model._meta.get_field("releases").related_model
        released = releases.objects.filter(call=models.OuterRef("pk")).order_by()
        shown = models.Q(models.Exists(released)) & models.Q(credits_hidden=False)
        return self.annotate(credits_shown=models.ExpressionWrapper(shown, models.BooleanField()))


class Call(models.Model):
    class LatePolicy(models.TextChoices):
        REFUSE = "refuse", "Refuse: the form closes at the deadline"
        ACCEPT_LATE = "accept_late", "Accept and flag as late"

    class NotificationMode(models.TextChoices):
        EACH = "each", "An email for each submission"
        DAILY_DIGEST = "daily_digest", "One daily digest"

    slug = models.SlugField(unique=True)
    # It goes into email subjects: one line only.
    title = models.CharField(max_length=200, validators=[validate_single_line])
    summary_heading = models.CharField(
        "heading over the summary",
        max_length=100,
        blank=True,
        validators=[validate_single_line],
        help_text="The start page's heading over the summary, in the call's own words, "
        "e.g. “What we found” or “Why we are asking”.",
    )
    summary = models.TextField(
        help_text="Shown on the start page. Blank lines separate paragraphs."
    )
    asks = models.TextField("what we are asking", blank=True)
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField(
        "deadline",
        help_text="Submissions are on time up to the end of this minute, UK time.",
    )
    late_policy = models.CharField(
        max_length=20, choices=LatePolicy.choices, default=LatePolicy.REFUSE
    )
    licence_id = models.CharField(max_length=50, default="CC-BY-NC-4.0")
    licence_name = models.CharField(
        max_length=200, default="Creative Commons Attribution-NonCommercial 4.0 International"
    )
    licence_version = models.CharField(max_length=20, default="4.0")
    licence_url = models.URLField(default="https://creativecommons.org/licenses/by-nc/4.0/")
    licence_summary = models.TextField(
        blank=True, help_text="What the licence allows, in plain words."
    )
    consent_wording = models.TextField(
        help_text="The exact yes/no question asked; its hash is stored with each consent."
    )
    consent_version = models.CharField(max_length=20, default="1")
    credit_promise = models.TextField(blank=True, help_text="How contributors are credited.")
    next_steps = models.TextField(
        "what happens next",
        blank=True,
        help_text="Shown on the confirmation page: the call's own timeline after the deadline. "
        "Blank lines separate paragraphs; lines starting '- ' make a list.",
    )
    privacy_notice = models.TextField(blank=True)
    contact_email = models.EmailField()
    notification_emails = models.TextField(
        blank=True,
        help_text="Staff addresses told of each new submission, one per line. Leave it empty "
        "to tell nobody (or the addresses in the STAFF_NOTIFICATION_EMAILS setting, if any). "
        "The contact address is never told unless it is listed here.",
    )
    notification_mode = models.CharField(
        max_length=20,
        choices=NotificationMode.choices,
        default=NotificationMode.EACH,
        help_text="A daily digest is sent by `manage.py send_digests`, run once a day by cron.",
    )
    # The end of the period the last digest covered; the next one starts here.
    last_digest_at = models.DateTimeField(null=True, blank=True, editable=False)
    max_files = models.PositiveSmallIntegerField(default=5)
    # Kept in bytes; the admin form reads and writes it in MB (submissions/admin_forms.py).
    max_file_size = models.PositiveIntegerField(default=10 * 1024 * 1024, help_text="In bytes.")
    published = models.BooleanField(default=False)
    draft_retention_days = models.PositiveSmallIntegerField(
        "keep unfinished drafts for (days)",
        default=30,
        help_text="Drafts never sent are deleted, with their files, this many days after the "
        "deadline (or after they were last saved, if later). Drafts without contributor "
        "details go after a day.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # Public credits and open data (submissions/publishing/).
    credits_hidden = models.BooleanField(
        "hide the credits page",
        default=False,
        help_text="Hide every public page of this call's releases (the credits, the "
        "contributions' pages, the open data and its feed), even once published.",
    )
    credits_frozen = models.BooleanField(
        "freeze the credits",
        default=False,
        help_text="Contributors can no longer correct their credit details on their status page.",
    )

    # After the What Works event: the public outcome page and the toolkit (publishing/outcome.py).
    outcome_published_at = models.DateTimeField(
        "outcome page published", null=True, blank=True, editable=False
    )
    toolkit_url = models.URLField(
        "link to the toolkit",
        max_length=500,
        blank=True,
        help_text="Shown on the outcome page and sent to contributors once the toolkit is "
        "marked published.",
    )
    toolkit_published_at = models.DateTimeField(
        "toolkit marked published", null=True, blank=True, editable=False
    )
    toolkit_published_by = models.CharField(max_length=150, blank=True, editable=False)
    thank_other_contributors = models.BooleanField(
        "thank every other contributor",
        default=False,
        help_text="When the toolkit is marked published, every contributor whose evidence is "
        "not in it gets a thank-you with a link to the outcome page.",
    )

    objects = CallQuerySet.as_manager()

    # What a published call must say: the start page leaves out a section that is blank, so a
    # call saved without these would go live half-written (the admin's form enforces it).
    REQUIRED_TO_PUBLISH = ("summary_heading", "licence_summary", "credit_promise", "privacy_notice")

    class Meta:
        ordering = ["-closes_at", "title"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        # The deadline is a whole minute: 23:59 means up to 23:59:59.999999.
        self.closes_at = self.closes_at.replace(second=0, microsecond=0)
        super().save(*args, **kwargs)

    def missing_to_publish(self) -> list[str]:
        """The fields of REQUIRED_TO_PUBLISH that are still blank."""
        return [name for name in self.REQUIRED_TO_PUBLISH if not getattr(self, name).strip()]

    @property
    def closed_from(self) -> datetime:
        """The first instant that is late."""
        return self.closes_at + DEADLINE_MINUTE

    def is_on_time(self, at: datetime) -> bool:
        return at < self.closed_from

    def accepts_submissions(self, at: datetime) -> bool:
        if at < self.opens_at or not self.published:
            return False
        return self.is_on_time(at) or self.late_policy == self.LatePolicy.ACCEPT_LATE

    @property
    def consent_hash(self) -> str:
        return consent_hash(self.consent_wording)

    @property
    def notification_list(self) -> list[str]:
        """Who is told of new submissions: the call's own addresses, else the site's setting.

        Never the public contact address by default: that is often one person's own mailbox.
        """
        own = [line.strip() for line in self.notification_emails.splitlines() if line.strip()]
        return own or list(settings.STAFF_NOTIFICATION_EMAILS)

    @property
    def outcome_is_published(self) -> bool:
        return self.outcome_published_at is not None

    def publish_outcome(self, at: datetime | None = None) -> bool:
        """Make the outcome page public. Returns False if it already was."""
        at = at or timezone.now()
        updated = Call.objects.filter(pk=self.pk, outcome_published_at__isnull=True).update(
            outcome_published_at=at
        )
        if updated:
            self.outcome_published_at = at
        return bool(updated)

    def unpublish_outcome(self) -> bool:
        """Take the outcome page down (it can be published again). False if it was not up."""
        updated = Call.objects.filter(pk=self.pk, outcome_published_at__isnull=False).update(
            outcome_published_at=None
        )
        self.outcome_published_at = None
        return bool(updated)

    def mark_toolkit_published(
        self, url: str, thank_others: bool, by: str, at: datetime | None = None
    ) -> bool:
        """Record the toolkit's link, publish the outcome page, and tell contributors, once.

        One conditional UPDATE: a second press, or two at once, finds the toolkit already
        marked and queues nothing (the later one waits for the first one's row lock, then
        re-reads the condition). Returns False when it was already marked. Raises
        NothingReleased, changing nothing, while the call has no release (releases are never
        deleted, so none can go between this check and the emails).
        """
        at = at or timezone.now()
        with transaction.atomic():
            if not self.releases.exists():
                raise NothingReleased(self.pk)
            marked = Call.objects.filter(pk=self.pk, toolkit_published_at__isnull=True).update(
                toolkit_url=url,
                thank_other_contributors=thank_others,
                toolkit_published_at=at,
                toolkit_published_by=by,
                # The thank-you links to the outcome page: it is public from now on.
                outcome_published_at=Coalesce(models.F("outcome_published_at"), models.Value(at)),
            )
            if not marked:
                return False
            self.refresh_from_db(
                fields=[
                    "toolkit_url",
                    "thank_other_contributors",
                    "toolkit_published_at",
                    "toolkit_published_by",
                    "outcome_published_at",
                ]
            )
            toolkit_published.send(sender=Call, call=self)
        return True

    def change_toolkit_url(self, url: str) -> None:
        """Correct the link after the toolkit was marked published; nobody is emailed again."""
        Call.objects.filter(pk=self.pk).update(toolkit_url=url)
        self.toolkit_url = url


class CallReviewer(models.Model):
    """A reviewer assigned to a call: they see and export that call's submissions (access.py)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="reviewer_assignments")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="call_assignments"
    )
    assigned_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "reviewer of this call"
        verbose_name_plural = "reviewers of this call"
        # Superusers and call managers have this: they see every call's submissions.
        permissions = [("review_every_call", "Can review the submissions of every call")]
        constraints = [
            models.UniqueConstraint(fields=["call", "reviewer"], name="call_reviewer_unique")
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} reviews {self.call}"


class Question(models.Model):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    short_title = models.CharField(max_length=80, help_text="Used in check-answers and exports.")
    text = models.TextField()
    help_text = models.TextField(blank=True)
    max_length = models.PositiveIntegerField(default=5000)

    class Meta:
        ordering = ["call", "position"]
        constraints = [
            models.UniqueConstraint(fields=["call", "position"], name="question_position_unique")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.short_title}"


class Theme(models.Model):
    """A staff-managed tag for grouping submissions during review."""

    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

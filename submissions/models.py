"""Calls, their questions, and the submissions made to them."""

import hashlib
import logging
import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import IntegrityError, models, transaction
from django.db.models.signals import post_delete
from django.dispatch import Signal, receiver
from django.urls import reverse
from django.utils import timezone

from .file_checks import CheckedFile
from .storage import get_attachment_storage
from .text import validate_single_line

logger = logging.getLogger(__name__)

# Sent by Submission.submit() inside its transaction, with submission=the submitted row (its call
# loaded): a receiver's writes commit or roll back with the submit. emails.py queues the receipt.
submitted = Signal()

# No 0/O, 1/I/L: a reference is read aloud on the phone and typed from paper.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8


SUBMIT_FIELDS = ["state", "submitted_at", "is_late", "updated_at"]
CONSENT_FIELDS = [
    "consent_licence_id",
    "consent_licence_version",
    "consent_wording_version",
    "consent_wording_sha256",
    "consent_given_at",
]
MAX_CO_CONTRIBUTORS = 5


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def new_draft_token() -> str:
    return secrets.token_urlsafe(32)


def consent_hash(wording: str) -> str:
    return hashlib.sha256(wording.encode()).hexdigest()


class CallQuerySet(models.QuerySet):
    def published(self) -> "CallQuerySet":
        return self.filter(published=True)

    def open_at(self, at: datetime) -> "CallQuerySet":
        """Published calls taking submissions at `at`: open, or closed but accepting late ones."""
        on_time = models.Q(closes_at__gt=at - timedelta(minutes=1))
        late_ok = models.Q(late_policy=Call.LatePolicy.ACCEPT_LATE)
        return self.published().filter(opens_at__lte=at).filter(on_time | late_ok)


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
        blank=True, help_text="Staff addresses told of each new submission, one per line."
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

    # Public credits and open data (submissions/credits.py, opendata.py, status.py).
    credits_hidden = models.BooleanField(
        "hide the credits page",
        default=False,
        help_text="Hide the public credits page and the open data of this call, "
        "even when submissions are included in the toolkit.",
    )
    credits_frozen = models.BooleanField(
        "freeze the credits",
        default=False,
        help_text="Contributors can no longer correct their credit details on their status page.",
    )

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["-closes_at", "title"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        # The deadline is a whole minute: 23:59 means up to 23:59:59.999999.
        self.closes_at = self.closes_at.replace(second=0, microsecond=0)
        super().save(*args, **kwargs)

    @property
    def closed_from(self) -> datetime:
        """The first instant that is late."""
        return self.closes_at + timedelta(minutes=1)

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
        return [line.strip() for line in self.notification_emails.splitlines() if line.strip()]


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


class SubmissionManager(models.Manager):
    def get_queryset(self) -> models.QuerySet:
        # The search document is only ever read inside the database (submissions/search.py);
        # loading it would add a few kilobytes to every submission fetched.
        return super().get_queryset().defer("search_document")


class Submission(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    class Credit(models.TextChoices):
        NAME_AND_ORGANISATION = "name_and_organisation", "My name and organisation"
        ORGANISATION_ONLY = "organisation_only", "My organisation only"
        NONE = "none", "Do not credit me publicly"

    class ReviewStatus(models.TextChoices):
        NEW = "new", "New"
        IN_REVIEW = "in_review", "In review"
        SHORTLISTED = "shortlisted", "Shortlisted"
        INCLUDED = "included", "Included in toolkit"
        NOT_INCLUDED = "not_included", "Not included"

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="submissions")
    # The draft is found by this unguessable token, held in the contributor's session.
    token = models.CharField(max_length=64, unique=True, default=new_draft_token, editable=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    reference = models.CharField(max_length=REFERENCE_LENGTH, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    is_late = models.BooleanField("late", default=False)

    # Consent record: the evidence of what was agreed to, and when.
    consent_licence_id = models.CharField(max_length=50, blank=True)
    consent_licence_version = models.CharField(max_length=20, blank=True)
    consent_wording_version = models.CharField(max_length=20, blank=True)
    consent_wording_sha256 = models.CharField(max_length=64, blank=True)
    consent_given_at = models.DateTimeField(null=True, blank=True)

    # About you: the credit details.
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    role = models.CharField("role or job title", max_length=200, blank=True)
    organisation = models.CharField(max_length=200, blank=True)
    orcid = models.CharField("ORCID iD", max_length=19, blank=True)
    website = models.URLField("website or social media profile", max_length=500, blank=True)
    credit_preference = models.CharField(max_length=30, choices=Credit.choices, blank=True)
    # Up to MAX_CO_CONTRIBUTORS people credited with the contributor, in the order given:
    # [{"name": ..., "organisation": ..., "orcid": ...}], every key present, "" when not given.
    co_contributors = models.JSONField(default=list, blank=True)

    # Your evidence: {str(question.id): answer}, and a list of http(s) URLs.
    answers = models.JSONField(default=dict, blank=True)
    links = models.JSONField(default=list, blank=True)

    # Review, by staff.
    review_status = models.CharField(
        max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.NEW
    )
    reviewer_notes = models.TextField(blank=True)
    themes = models.ManyToManyField(Theme, blank=True, related_name="submissions")
    assigned_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_submissions",
    )

    # Publication, by call managers; a withdrawal request, by the contributor (status page).
    withheld_from_open_data = models.BooleanField(
        "withhold from the open data",
        default=False,
        help_text="Still credited, but its answers and links are left out of the open data.",
    )
    withdrawal_requested_at = models.DateTimeField(
        "withdrawal requested", null=True, blank=True, editable=False
    )

    # Full-text search, on PostgreSQL: a database trigger keeps it up to date (see
    # submissions/search.py); elsewhere it stays empty.
    search_document = SearchVectorField(null=True, editable=False)

    objects = SubmissionManager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        permissions = [("export_submissions", "Can export submissions")]
        indexes = [
            models.Index(fields=["state", "-submitted_at"], name="submission_state_submitted"),
            models.Index(fields=["call", "state", "review_status"], name="submission_call_review"),
            # The review list's counts, date links and the index overview read only this
            # (index-only scans) instead of every wide row; INCLUDE is PostgreSQL's.
            models.Index(
                fields=["state", "review_status", "submitted_at"],
                include=["call", "is_late", "id"],
                name="submission_review_queue",
            ),
        ]

    def __str__(self) -> str:
        return self.reference or f"Draft {self.pk}"

    @property
    def is_submitted(self) -> bool:
        return self.state == self.State.SUBMITTED

    def credit_line(self) -> str:
        """The exact line that would appear in the toolkit's credits: see credit_line_for()."""
        return self.credit_line_for(
            self.credit_preference, self.name, self.organisation, self.co_contributors
        )

    @classmethod
    def credit_line_for(
        cls, preference: str, name: str, organisation: str, co_contributors: list[dict]
    ) -> str:
        """The credit line these details give; the one place it is worded.

        The contributor as they chose, then each co-contributor as "Name, Organisation", all
        separated by "; ". Nobody from this submission is credited when the contributor chose
        not to be. submissions/exports.py repeats this in SQL for the COPY path.
        """
        if preference == cls.Credit.NAME_AND_ORGANISATION:
            own = ", ".join(part for part in (name, organisation) if part)
        elif preference == cls.Credit.ORGANISATION_ONLY:
            own = organisation
        else:
            return ""
        others = [
            ", ".join(part for part in (person["name"], person["organisation"]) if part)
            for person in co_contributors
        ]
        return "; ".join(part for part in (own, *others) if part)

    def co_contributor_lines(self) -> list[str]:
        """Each co-contributor on one line: "Name (Organisation, ORCID iD 0000-...)"."""
        lines = []
        for person in self.co_contributors:
            details = [person["organisation"]] if person["organisation"] else []
            if person["orcid"]:
                details.append(f"ORCID iD {person['orcid']}")
            lines.append(f"{person['name']} ({', '.join(details)})" if details else person["name"])
        return lines

    def has_entries(self) -> bool:
        """Whether the draft holds anything the person typed or uploaded, beyond the consent."""
        typed = (self.name, self.email, self.role, self.organisation, self.orcid, self.website)
        if any(typed) or self.answers or self.links or self.co_contributors:
            return True
        return self.pk is not None and self.attachments.exists()  # type: ignore[redundant-expr]  # pk is None until saved; the stubs say int

    def record_consent(self, call: Call, at: datetime) -> None:
        self.consent_licence_id = call.licence_id
        self.consent_licence_version = call.licence_version
        self.consent_wording_version = call.consent_version
        self.consent_wording_sha256 = call.consent_hash
        self.consent_given_at = at

    def consent_columns(self) -> dict:
        """The consent record's columns, as record_consent() set them, for update_draft()."""
        return {name: getattr(self, name) for name in CONSENT_FIELDS}

    def delete_draft(self) -> bool:
        """Delete the row and its files, only while it is a draft; False when it was submitted."""
        with transaction.atomic():
            # Locked first: a delete collects the row's files before it deletes the row itself.
            drafts = Submission.objects.select_for_update().filter(state=self.State.DRAFT)
            locked = drafts.filter(pk=self.pk).first()
            if locked is None:
                return False
            locked.delete()
        return True

    def answered_questions(self, questions) -> list[tuple["Question", str]]:
        return [(q, self.answers.get(str(q.pk), "")) for q in questions]

    def update_draft(self, **columns) -> bool:
        """Write these columns (and updated_at), only while the row is still a draft.

        One conditional UPDATE, so the check and the write cannot be separated: a submit that
        got there first keeps every column it confirmed. Returns False when nothing was written.
        """
        columns["updated_at"] = timezone.now()
        drafts = Submission.objects.filter(pk=self.pk, state=self.State.DRAFT)
        if not drafts.update(**columns):
            return False
        for name, value in columns.items():
            setattr(self, name, value)
        return True

    def submit(self, at: datetime | None = None) -> bool:
        """Turn the draft into a submission, once. Returns False when it was already submitted.

        The row lock makes a double click or a replayed POST wait, then find it submitted.
        Without `at`, the time is taken under the lock, so that every write the draft received
        (a file uploaded in another tab) happened before its submitted time.
        """
        with transaction.atomic():
            locked = Submission.objects.select_for_update().select_related("call").get(pk=self.pk)
            if locked.is_submitted:
                return False
            at = at or timezone.now()
            locked.state = self.State.SUBMITTED
            locked.submitted_at = at
            locked.is_late = not locked.call.is_on_time(at)
            for _ in range(10):
                locked.reference = new_reference()
                try:
                    with transaction.atomic():
                        locked.save(
                            update_fields=[
                                "state",
                                "submitted_at",
                                "is_late",
                                "reference",
                                "updated_at",
                            ]
                        )
                    break
                except IntegrityError:
                    continue
            else:
                raise IntegrityError("Could not find a free reference after 10 tries")
            # In this transaction: a submission that commits always has its emails queued
            # (emails.py listens; the signal keeps this module from importing it).
            submitted.send(sender=Submission, submission=locked)
        for field in [*SUBMIT_FIELDS, "reference"]:
            setattr(self, field, getattr(locked, field))
        return True

    def add_files(self, files: list[CheckedFile]) -> list["Attachment"]:
        """Store files and record them, all or none; a file never outlives a failed record.

        Raises AttachmentLimitReached past the call's max_files, IntegrityError on a duplicate,
        NotADraft once it has been submitted (checked under the same lock as the count).
        """
        storage = get_attachment_storage()
        stored: list[str] = []
        added = []
        try:
            with transaction.atomic():
                # The lock makes the count below hold against a second tab uploading too.
                rows = Submission.objects.select_for_update().select_related("call")
                locked = rows.get(pk=self.pk)
                if locked.is_submitted:
                    raise NotADraft
                if locked.attachments.count() + len(files) > locked.call.max_files:
                    raise AttachmentLimitReached
                for checked in files:
                    attachment = Attachment(
                        submission=self,
                        original_name=checked.name,
                        size=checked.size,
                        content_type=checked.content_type,
                        sha256=checked.sha256,
                    )
                    # The object is written before its row, so a row never points at nothing.
                    attachment.file.save("upload", checked.upload, save=False)
                    stored.append(attachment.file.name)
                    attachment.save()
                    added.append(attachment)
        except BaseException:
            for name in stored:
                _delete_stored(storage, name)
            raise
        return added

    def remove_attachment(self, attachment_pk: int) -> bool:
        """Remove one of this draft's files (another draft's id removes nothing).

        Returns False, removing nothing, when the submission is no longer a draft.
        """
        with transaction.atomic():
            locked = Submission.objects.select_for_update().filter(pk=self.pk).first()
            if locked is None or locked.is_submitted:
                return False
            locked.attachments.filter(pk=attachment_pk).delete()
        return True


def attachment_key(instance: "Attachment", filename: str) -> str:
    """A random object key: the contributor's file name never reaches the storage."""
    return f"attachments/{uuid.uuid4().hex}"


class AttachmentLimitReached(Exception):
    """The submission already holds as many files as its call allows."""


class NotADraft(Exception):
    """The submission was submitted meanwhile: nothing more may be written to it."""


class Attachment(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(
        upload_to=attachment_key, max_length=200, storage=get_attachment_storage
    )
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "sha256"], name="attachment_unique_per_submission"
            )
        ]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("attachment_download", args=[self.pk])


@receiver(post_delete, sender=Attachment)
def _delete_file_after_commit(sender, instance: Attachment, **kwargs) -> None:
    # A signal, not Attachment.delete(): cascades from a deleted draft never call delete().
    # After commit, so that a rolled-back delete leaves the record pointing at its file.
    if instance.file.name:
        storage, name = instance.file.storage, instance.file.name
        transaction.on_commit(lambda: _delete_stored(storage, name), robust=True)


def _delete_stored(storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:
        # Left for `manage.py sweep_files` to find; the record is gone either way.
        logger.exception("Could not delete attachment file %s", name)


class ExportRecord(models.Model):
    """Who exported which submissions, when, and how many rows the file held."""

    class Source(models.TextChoices):
        ADMIN_SELECTED = "admin_selected", "Admin: selected submissions"
        ADMIN_ALL_MATCHING = "admin_all_matching", "Admin: all matching"
        COMMAND = "command", "Command line"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="submission_exports",
    )
    # Kept as text too: the record must outlive the account, and the command has no user.
    username = models.CharField(max_length=150)
    source = models.CharField(max_length=20, choices=Source.choices)
    filters = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    # Both stay empty if the download was cut off before the last row.
    completed_at = models.DateTimeField(null=True, blank=True)
    row_count = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Export by {self.username} at {self.started_at:%Y-%m-%d %H:%M}"

    def complete(self, row_count: int, at: datetime | None = None) -> None:
        """Mark the file as sent in full, with its number of rows."""
        self.completed_at = at or timezone.now()
        self.row_count = row_count
        self.save(update_fields=["completed_at", "row_count"])


class ReviewChange(models.Model):
    """One change to one review field: who, when, from what to what.

    Values are stored as the words a reviewer saw, so the record still reads correctly after a
    theme is renamed or a user is removed.
    """

    class Field(models.TextChoices):
        REVIEW_STATUS = "review_status", "Review status"
        THEMES = "themes", "Themes"
        ASSIGNED_REVIEWER = "assigned_reviewer", "Assigned reviewer"
        REVIEWER_NOTES = "reviewer_notes", "Reviewer notes"
        WITHHELD_FROM_OPEN_DATA = "withheld_from_open_data", "Withheld from open data"
        # Changed by the contributor on their status page.
        NAME = "name", "Name"
        ORGANISATION = "organisation", "Organisation"
        ORCID = "orcid", "ORCID iD"
        CREDIT_PREFERENCE = "credit_preference", "Credit preference"
        WITHDRAWAL_REQUESTED = "withdrawal_requested", "Withdrawal requested"

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="review_changes"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_by_name = models.CharField(max_length=150, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)
    field = models.CharField(max_length=30, choices=Field.choices)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["submission", "-changed_at"], name="reviewchange_submission"),
        ]

    def __str__(self) -> str:
        return f"{self.get_field_display()} of {self.submission_id} at {self.changed_at}"


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
        cls, submission: Submission, purpose: str, at: datetime | None = None, raw: str = ""
    ) -> str:
        """A new link for this purpose, replacing any earlier one; returns the raw token.

        `raw` is for a token the caller derives itself (see emails.stable_link_token); by
        default it is 32 random bytes.
        """
        raw = raw or secrets.token_urlsafe(32)
        cls.objects.update_or_create(
            submission=submission,
            purpose=purpose,
            defaults={"token_sha256": hash_link_token(raw), "created_at": at or timezone.now()},
        )
        return raw

    @classmethod
    def find(cls, raw: str, purpose: str) -> "ContributorLink | None":
        """The link this token opens for this purpose, or None (unknown, replaced, or forged)."""
        if not raw or len(raw) > 100:
            return None
        links = cls.objects.select_related("submission__call")
        return links.filter(purpose=purpose, token_sha256=hash_link_token(raw)).first()


def default_retry_until() -> datetime:
    return timezone.now() + timedelta(hours=settings.EMAIL_RETRY_HOURS)


class OutgoingEmail(models.Model):
    """One email, queued in the transaction that gives the reason for it.

    The task worker (`manage.py db_worker`) renders and sends it, and tries again with backoff
    until `retry_until`; then it is marked failed, for staff to retry from the admin.
    See submissions/emails.py.
    """

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt to the contributor"
        NOTIFICATION = "notification", "New submission, to staff"
        DIGEST = "digest", "Daily digest, to staff"
        RESUME_LINK = "resume_link", "Link to come back to a draft"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="outgoing_emails")
    # Erasing a submission erases its emails too.
    submission = models.ForeignKey(
        Submission,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outgoing_emails",
    )
    to = models.TextField(help_text="One address per line.")
    # What the email needs besides its submission or call, e.g. the period of a digest.
    params = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_try_at = models.DateTimeField(default=timezone.now)
    retry_until = models.DateTimeField(default=default_retry_until)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_tried_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_try_at"], name="outgoingemail_queue")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display().lower()})"

    @property
    def recipients(self) -> list[str]:
        return [line.strip() for line in self.to.splitlines() if line.strip()]

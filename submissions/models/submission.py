"""Submissions (drafts and submitted evidence) and their files."""

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.db.models.functions import Lower, Trim, Upper
from django.db.models.signals import post_delete
from django.dispatch import Signal, receiver
from django.urls import reverse
from django.utils import timezone

from ..common.storage import get_attachment_storage
from .call import Call, Question, Theme

logger = logging.getLogger(__name__)


# Sent by Submission.submit() inside its transaction, with submission=the submitted row (its call
# loaded): a receiver's writes commit or roll back with the submit. emails.py queues the receipt.
submitted = Signal()
# Sent by Submission.request_withdrawal() inside its transaction, the first time only, with
# submission=the submission: the outbox tells the call's staff.
withdrawal_requested = Signal()
# Sent by Submission.erase() inside its transaction, just before the row goes, with
# submission=the submitted row (its call loaded): the outbox queues the contributor's email,
# which must outlive the row.
erased = Signal()

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
# The credit details a contributor may correct on their status page after sending.
CREDIT_FIELDS = ["name", "organisation", "orcid", "credit_preference", "co_contributors"]
# Who made a change on the status page, in the submission's history.
CONTRIBUTOR = "Contributor (status page)"


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def new_draft_token() -> str:
    return secrets.token_urlsafe(32)


def holder_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_holder() -> tuple[str, str]:
    """A secret for the one browser session that is to hold a draft, and the SHA-256 of it that
    the draft keeps (`Submission.holder_sha256`)."""
    secret = secrets.token_urlsafe(32)
    return secret, holder_digest(secret)


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed every check (journey/file_checks.py), ready to attach."""

    upload: UploadedFile
    name: str
    size: int
    content_type: str
    sha256: str


class SubmissionQuerySet(models.QuerySet):
    def included(self, call: "Call | int | models.OuterRef") -> "SubmissionQuerySet":
        """Credited and published: submitted, included in the toolkit, not withdrawn."""
        return self.filter(
            call=call,
            state=Submission.State.SUBMITTED,
            review_status=Submission.ReviewStatus.INCLUDED,
            withdrawal_requested_at__isnull=True,
        )

    def publishable(self, call: "Call | int") -> "SubmissionQuerySet":
        """What the next release will hold: included, not withdrawn, not withheld."""
        return self.filter(self.publishable_q(call))

    def publishable_q(self, call: "Call | int") -> models.Q:
        """publishable() as a condition, to annotate rows with rather than filter them."""
        return models.Q(
            call=call,
            state=Submission.State.SUBMITTED,
            review_status=Submission.ReviewStatus.INCLUDED,
            withdrawal_requested_at__isnull=True,
            withheld_from_open_data=False,
        )


class SubmissionManager(models.Manager.from_queryset(SubmissionQuerySet)):  # type: ignore[misc]  # a manager made from the queryset, as Django documents
    def get_queryset(self) -> models.QuerySet:
        # The search document is only ever read inside the database (review/search.py);
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
    # The draft is found by this unguessable token, kept in the contributor's session (never in
    # a URL). It is not enough to write to the draft: see holder_sha256.
    token = models.CharField(max_length=64, unique=True, default=new_draft_token, editable=False)
    # One browser holds a draft at a time: the session that started it, or the last one to
    # continue it from an emailed link, which keeps the secret whose SHA-256 this is. Every
    # write re-checks it where it writes, so a browser that lost the draft changes nothing.
    # Empty for drafts saved before holders: the first browser to come back takes it.
    holder_sha256 = models.CharField(max_length=64, blank=True, default="", editable=False)
    # The address of the last emailed link this draft was continued from. A browser that lost
    # the draft may ask for a link to this address only, so whoever sent someone a link to
    # their draft cannot take it back once that person continues it.
    link_email = models.EmailField(blank=True, editable=False)
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
    # (The column keeps its first name; it now withholds from every public page and file.)
    withheld_from_open_data = models.BooleanField(
        "withhold from publication",
        default=False,
        help_text="Takes it off every public page and file at once (its page, its credit, its "
        "row in the open data of every release), and out of later releases.",
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
            # Both ways: newest first (the default order) read backwards, and the export's
            # oldest first read forwards, each with no sort of its own (issue 23).
            models.Index(fields=["state", "submitted_at", "id"], name="submission_state_submitted"),
            # A call's submissions in the list's order (oldest first), and by review status in
            # that order: the list reads its page from the index in order and stops, whatever
            # the planner's statistics say. Without these, right after a bulk load (no ANALYZE
            # yet) the planner expected a handful of rows and sorted every row of the call:
            # 34.6 s for page 100 at 1,000,000 (docs/benchmarks.md).
            models.Index(
                fields=["call", "state", "submitted_at", "id"], name="submission_call_in_order"
            ),
            models.Index(
                fields=["call", "state", "review_status", "submitted_at", "id"],
                name="submission_call_review",
            ),
            # The review list's counts, date links and the index overview read only this
            # (index-only scans) instead of every wide row; INCLUDE is PostgreSQL's.
            models.Index(
                fields=["state", "review_status", "submitted_at"],
                include=["call", "is_late", "id"],
                name="submission_review_queue",
            ),
            # "Lost your link?" finds a call's submissions by address, in any case (iexact).
            models.Index(Upper("email"), name="submission_email_upper"),
            # The toolkit's emails are queued a batch of people at a time, in order of address,
            # each batch after the last address queued (outbox/queue.py toolkit_audience()).
            models.Index(
                F("call"),
                Lower(Trim("email")),
                condition=models.Q(state="submitted"),
                name="submission_call_address",
            ),
            # Late submissions all come after the deadline: found through the indexes above,
            # counting or ordering them reads every submitted one (200 ms at 1,000,000). A partial
            # index of those few rows, with what the list filters and counts by.
            models.Index(
                fields=["-submitted_at"],
                include=["call", "id"],
                condition=models.Q(is_late=True, state="submitted"),
                name="submission_late",
            ),
            # Withdrawal requests are rare: a list of them would read the whole table.
            models.Index(
                fields=["-submitted_at"],
                include=["call", "id"],
                condition=models.Q(withdrawal_requested_at__isnull=False),
                name="submission_withdrawal",
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
            own = ", ".join([part for part in (name, organisation) if part])
        elif preference == cls.Credit.ORGANISATION_ONLY:
            own = organisation
        else:
            return ""
        if not co_contributors:  # most: a release words 300,000 of them at once
            return own
        others = [
            ", ".join([part for part in (person["name"], person["organisation"]) if part])
            for person in co_contributors
        ]
        return "; ".join([part for part in (own, *others) if part])

    @classmethod
    def credited_names_for(
        cls, preference: str, name: str, organisation: str, co_contributors: list[dict]
    ) -> list[str]:
        """Who the credit line of these details names, each as written: a citation's authors.

        The same choices as credit_line_for(): a person by name, an organisation when the
        contributor chose to be credited by it alone, nobody when they asked not to be named.
        """
        if preference == cls.Credit.NAME_AND_ORGANISATION:
            own = name or organisation
        elif preference == cls.Credit.ORGANISATION_ONLY:
            own = organisation
        else:
            return []
        others = [person["name"] or person["organisation"] for person in co_contributors]
        return [who for who in (own, *others) if who]

    def co_contributor_lines(self) -> list[str]:
        """Each co-contributor on one line: "Name (Organisation, ORCID iD 0000-...)"."""
        return co_contributor_lines(self.co_contributors)

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
        """Delete the row and its files, only while it is a draft held by this browser; False
        when it was submitted or continued in another browser."""
        with transaction.atomic():
            # Locked first: a delete collects the row's files before it deletes the row itself.
            drafts = Submission.objects.select_for_update().filter(
                state=self.State.DRAFT, holder_sha256=self.holder_sha256
            )
            locked = drafts.filter(pk=self.pk).first()
            if locked is None:
                return False
            locked.delete()
        return True

    def answered_questions(self, questions) -> list[tuple["Question", str]]:
        return [(q, self.answers.get(str(q.pk), "")) for q in questions]

    def update_draft(self, **columns) -> bool:
        """Write these columns (and updated_at), only while the row is still a draft, held by the
        browser this object was loaded for.

        One conditional UPDATE, so the check and the write cannot be separated: a submit that
        got there first keeps every column it confirmed, and a browser that opened a link to
        the draft meanwhile keeps it. Returns False when nothing was written.
        """
        columns["updated_at"] = timezone.now()
        drafts = Submission.objects.filter(
            pk=self.pk, state=self.State.DRAFT, holder_sha256=self.holder_sha256
        )
        if not drafts.update(**columns):
            return False
        for name, value in columns.items():
            setattr(self, name, value)
        return True

    def submit(self, at: datetime | None = None) -> bool:
        """Turn the draft into a submission, once. Returns False when it was already submitted,
        or when another browser holds it now (it was continued there from a link).

        The row lock makes a double click or a replayed POST wait, then find it submitted.
        Without `at`, the time is taken under the lock, so that every write the draft received
        (a file uploaded in another tab) happened before its submitted time.
        """
        with transaction.atomic():
            locked = Submission.objects.select_for_update().select_related("call").get(pk=self.pk)
            if locked.is_submitted or locked.holder_sha256 != self.holder_sha256:
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
        NotADraft once it has been submitted or continued in another browser (checked under the
        same lock as the count).
        """
        storage = get_attachment_storage()
        stored: list[str] = []
        added = []
        try:
            with transaction.atomic():
                # The lock makes the count below hold against a second tab uploading too.
                rows = Submission.objects.select_for_update().select_related("call")
                locked = rows.get(pk=self.pk)
                if locked.is_submitted or locked.holder_sha256 != self.holder_sha256:
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

        Returns False, removing nothing, when the submission is no longer a draft held here.
        """
        with transaction.atomic():
            locked = Submission.objects.select_for_update().filter(pk=self.pk).first()
            if locked is None or locked.is_submitted or locked.holder_sha256 != self.holder_sha256:
                return False
            locked.attachments.filter(pk=attachment_pk).delete()
        return True

    def correct_credit(self, details: dict, at: datetime | None = None) -> bool:
        """Write the contributor's corrected credit details and their history, unless the call's
        credits are frozen or a withdrawal was asked for. Returns whether anything was written.
        """
        from .review import ReviewChange  # review.py imports this module

        at = at or timezone.now()
        with transaction.atomic():
            # The call's row too: a manager freezing the credits waits for this, or this sees it.
            rows = Submission.objects.select_for_update().select_related("call")
            locked = rows.get(pk=self.pk)
            if locked.call.credits_frozen or locked.withdrawal_requested_at is not None:
                return False
            before = {f: getattr(locked, f) for f in CREDIT_FIELDS}
            changed = [f for f in CREDIT_FIELDS if before[f] != details[f]]
            for field in CREDIT_FIELDS:
                setattr(locked, field, details[field])
            locked.save(update_fields=[*CREDIT_FIELDS, "updated_at"])
            ReviewChange.objects.bulk_create(
                ReviewChange(
                    submission=locked,
                    changed_by=None,
                    changed_by_name=CONTRIBUTOR,
                    changed_at=at,
                    field=field,
                    old_value=_credit_label(field, before[field]),
                    new_value=_credit_label(field, details[field]),
                )
                for field in changed
            )
        for field in CREDIT_FIELDS:
            setattr(self, field, details[field])
        return True

    def request_withdrawal(self, at: datetime | None = None) -> bool:
        """Record the contributor's request once; staff then erase the submission.

        Returns False if it was asked already.
        """
        from .review import ReviewChange  # review.py imports this module

        at = at or timezone.now()
        with transaction.atomic():
            asked = Submission.objects.filter(
                pk=self.pk, withdrawal_requested_at__isnull=True
            ).update(withdrawal_requested_at=at, updated_at=at)
            if asked:
                ReviewChange.objects.create(
                    submission=self,
                    changed_by=None,
                    changed_by_name=CONTRIBUTOR,
                    changed_at=at,
                    field=ReviewChange.Field.WITHDRAWAL_REQUESTED,
                    old_value="",
                    new_value="Requested",
                )
                self.withdrawal_requested_at = at
                withdrawal_requested.send(sender=Submission, submission=self)
        return bool(asked)

    def erase(self) -> bool:
        """Delete the submission, its files, history and pending emails, and (for a submitted
        one) queue an email telling its contributor. Returns False if it was already gone.

        The row lock makes a second press, or two at once, find nothing to erase, so the
        contributor is told once.
        """
        with transaction.atomic():
            rows = Submission.objects.select_for_update().select_related("call")
            locked = rows.filter(pk=self.pk).first()
            if locked is None:
                return False
            if locked.is_submitted:
                erased.send(sender=Submission, submission=locked)
            locked.delete()
        return True


def co_contributor_lines(people: list[dict]) -> list[str]:
    """Each co-contributor on one line: "Name (Organisation, ORCID iD 0000-...)"."""
    lines = []
    for person in people:
        details = [person["organisation"]] if person["organisation"] else []
        if person["orcid"]:
            details.append(f"ORCID iD {person['orcid']}")
        lines.append(f"{person['name']} ({', '.join(details)})" if details else person["name"])
    return lines


def _credit_label(field: str, value) -> str:
    """A credit detail as the submission's history shows it."""
    if field == "credit_preference":
        return Submission.Credit(value).label if value else ""
    if field == "co_contributors":
        return "; ".join(co_contributor_lines(value))
    return value


def attachment_key(instance: "Attachment", filename: str) -> str:
    """A random object key: the contributor's file name never reaches the storage."""
    return f"attachments/{uuid.uuid4().hex}"


class AttachmentLimitReached(Exception):
    """The submission already holds as many files as its call allows."""


class NotADraft(Exception):
    """The submission was submitted meanwhile, or continued in another browser: nothing more
    may be written to it from here."""


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

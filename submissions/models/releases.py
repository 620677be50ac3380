"""Releases: what the public reads of a call, published by a call manager as numbered, dated
snapshots, and the redactions made before a contribution is first released.

- `PublicContribution`: a submission's public identity. Its `public_id` is random (it says
  nothing of the private reference) and the same in every release.
- `Release`: one numbered, dated snapshot of a call's public outputs.
- `ReleaseEntry`: one contribution as a release shows it (its credit line, authors and themes
  as they were then). The credits page, a contribution's page and the diff read these.
- `ReleaseSegment`: a slice of a release's open-data files, stored through Django's storage
  API; the files are their segments end to end, so taking one contribution down rewrites one
  segment per release, never a whole file (submissions/publishing/releases.py).
- `Redaction`: words (or a whole answer or link) kept out of every public page and file, with
  the reason; staff still see the original.
"""

import logging
import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from .call import Call, Question
from .submission import REFERENCE_ALPHABET, Submission

logger = logging.getLogger(__name__)

RELEASES = "releases"  # the STORAGES alias of the open-data files
# Lower case, no 0/o, 1/l/i: read aloud, typed from a printed citation. 31**12 ids.
PUBLIC_ID_ALPHABET = REFERENCE_ALPHABET.lower()
PUBLIC_ID_LENGTH = 12


def release_storage() -> Storage:
    return storages[RELEASES]


def new_public_id() -> str:
    return "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))


# Random bytes to letters of PUBLIC_ID_ALPHABET, without bias: a byte below the largest multiple
# of the alphabet's length maps to one letter; the few above it are dropped.
_KEPT_BYTES = 256 - 256 % len(PUBLIC_ID_ALPHABET)
_BYTE_TO_LETTER = bytes(
    ord(PUBLIC_ID_ALPHABET[b % len(PUBLIC_ID_ALPHABET)]) if b < _KEPT_BYTES else 0
    for b in range(256)
)
_DROPPED_BYTES = bytes(range(_KEPT_BYTES, 256))


def new_public_ids(count: int) -> list[str]:
    """`count` public ids as new_public_id() makes them (as random), thousands at a time."""
    letters = b""
    needed = count * PUBLIC_ID_LENGTH
    while len(letters) < needed:
        # A few more bytes than needed, since some are dropped (8 of 256 for 31 letters).
        more = secrets.token_bytes((needed - len(letters)) * 17 // 16 + 16)
        letters += more.translate(_BYTE_TO_LETTER, _DROPPED_BYTES)
    text = letters[:needed].decode("ascii")
    return [text[i : i + PUBLIC_ID_LENGTH] for i in range(0, needed, PUBLIC_ID_LENGTH)]


class PublicContribution(models.Model):
    """A contribution's public identity, made when it is first released.

    It outlives an erased submission (`submission` becomes empty) so that a citation of it
    finds a page saying it is no longer published, and nothing else.
    """

    # The call and the first release are the same row for each of the 300,000 contributions a
    # release may bring: their keys are not checked by the database (a check each, 25 µs, on
    # one core at the commit, about 0.7 of the time of a COPY of the rows released; see
    # docs/benchmarks.md). publish_release writes them, as the call it holds locked and the
    # release it has just made; PROTECT still guards both in Django.
    call = models.ForeignKey(
        Call, on_delete=models.PROTECT, related_name="public_contributions", db_constraint=False
    )
    # Nor the submission's: the database's check locks the submission's row (FOR KEY SHARE),
    # which rewrites a page of the submissions' table for each new contribution: 800 MB of
    # write-ahead log for a first release of 300,000 (docs/benchmarks.md). publish_release
    # writes it for a submission it has just read under the call's lock, and an erasure takes
    # that lock before it deletes (releases.take_down_before_erasing), then SET_NULL empties it
    # in Django, as before.
    submission = models.OneToOneField(
        Submission,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="public",
        db_constraint=False,
    )
    # Unique by a constraint of its own (Meta), not `unique=True`: on PostgreSQL that also makes
    # a second index of the field (varchar_pattern_ops, for LIKE, which nothing here asks),
    # filled in random order for each of a first release's 300,000 new contributions.
    public_id = models.CharField(max_length=PUBLIC_ID_LENGTH, default=new_public_id)
    first_release = models.ForeignKey(
        "Release", on_delete=models.PROTECT, related_name="first_contributions", db_constraint=False
    )
    # When the contributor was told it is published (outbox/queue.py): once, ever.
    announced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="public_contribution_public_id")
        ]

    def __str__(self) -> str:
        return self.public_id


class Release(models.Model):
    """A numbered, dated snapshot of a call's public outputs, published by a call manager."""

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="releases")
    number = models.PositiveIntegerField()
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    published_by_name = models.CharField(max_length=150, blank=True)
    notes = models.TextField(
        "what changed",
        blank=True,
        help_text="Public: shown on the open data page and in the feed of releases.",
    )
    # The questions as the release's files name them: [{"question": pk, "name", "title", "text"}].
    columns = models.JSONField(default=list)
    contribution_count = models.PositiveIntegerField(default=0)
    unnamed_count = models.PositiveIntegerField(default=0)
    added_count = models.PositiveIntegerField(default=0)
    # Taking a contribution down after publication amends the release: the count of amendments
    # and the last one's time are part of every ETag and of the feed.
    revision = models.PositiveIntegerField(default=0)
    amended_at = models.DateTimeField(null=True, blank=True)
    # datapackage.json, as built at publication (it names no contribution, so never changes).
    package = models.TextField(blank=True)
    csv_header = models.TextField(blank=True)
    csv_size = models.PositiveBigIntegerField(default=0)
    csv_etag = models.CharField(max_length=80, blank=True)
    json_size = models.PositiveBigIntegerField(default=0)
    json_etag = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["call", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["call", "number"], name="release_number_unique")
        ]

    def __str__(self) -> str:
        return f"Release {self.number} of {self.call}"

    @classmethod
    def latest_of(cls, call: "Call | int") -> "Release | None":
        """The call's latest release: what every public page and email shows (None before
        the first)."""
        return cls.objects.filter(call=call).order_by("-number").first()

    @property
    def changed_at(self) -> datetime:
        """When its public content last changed: published, or last amended."""
        return self.amended_at or self.published_at


class ReleaseEntry(models.Model):
    """One contribution in one release, with what the release shows of it."""

    # No index of their own: release_entry_unique starts with the release and
    # release_entry_contribution with the contribution (two fewer indexes to fill for each of a
    # release's 300,000 entries). Nor checked by the database (see PublicContribution.call):
    # every entry is written by publish_release, in the transaction that made the release, of
    # a contribution it has made or read; a PublicContribution is never deleted (it outlives
    # its submission), and CASCADE still deletes a release's entries with it, in Django.
    release = models.ForeignKey(
        Release,
        on_delete=models.CASCADE,
        related_name="entries",
        db_index=False,
        db_constraint=False,
    )
    contribution = models.ForeignKey(
        PublicContribution,
        on_delete=models.CASCADE,
        related_name="entries",
        db_index=False,
        db_constraint=False,
    )
    position = models.PositiveIntegerField()  # its row in the release's files
    segment = models.PositiveIntegerField()
    credit_line = models.TextField(blank=True)  # "" for one who asked not to be named
    anonymous = models.BooleanField(default=False)
    sort_key = models.TextField(blank=True)  # publishing/credits.py sort_key(credit_line)
    # The credited people (or organisation), each as written, for citations.
    authors = models.JSONField(default=list)
    themes = models.JSONField(default=list)

    class Meta:
        ordering = ["release", "position"]
        constraints = [
            models.UniqueConstraint(fields=["release", "contribution"], name="release_entry_unique")
        ]
        indexes = [
            # The credits page: named first, by name, a page at a time.
            models.Index(
                fields=["release", "anonymous", "sort_key", "position"],
                name="release_entry_credits",
            ),
            models.Index(fields=["release", "segment", "position"], name="release_entry_segment"),
            models.Index(fields=["contribution", "release"], name="release_entry_contribution"),
        ]

    def __str__(self) -> str:
        return f"{self.contribution} in release {self.release_id}"


class ReleaseJob(models.Model):
    """A release the task worker publishes (a big one: submissions/publishing/release_job.py):
    one row per call, the last one asked for.

    A second press, or a second call manager, while it waits or is being published, changes
    nothing: `request` re-checks the state in its conditional UPDATE. Publishing itself
    re-checks the release's number under the call's row lock (publish_release).
    """

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting for the worker"
        PUBLISHING = "publishing", "Being published"
        DONE = "done", "Published"
        FAILED = "failed", "Not published"

    IN_PROGRESS = (State.WAITING, State.PUBLISHING)

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="release_job")
    job = models.UUIDField(default=uuid.uuid4)
    state = models.CharField(max_length=12, choices=State.choices, default=State.WAITING)
    number = models.PositiveIntegerField()
    notes = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_by_name = models.CharField(max_length=150, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Past this, a job still "in progress" is taken for lost (its worker died): asking again
    # starts a new one. Publishing re-checks the number, so even a slow one is never doubled.
    stalls_at = models.DateTimeField()
    total = models.PositiveIntegerField(default=0)  # contributions to publish, when asked
    done = models.PositiveIntegerField(default=0)  # written so far (on PostgreSQL, as it goes)
    release = models.ForeignKey(
        Release, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    problem = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Release {self.number} of {self.call}, {self.get_state_display().lower()}"

    @property
    def in_progress(self) -> bool:
        return self.state in self.IN_PROGRESS

    def stalled(self, at: datetime | None = None) -> bool:
        return self.in_progress and (at or timezone.now()) >= self.stalls_at

    @classmethod
    def request(
        cls, call: Call, *, number: int, by=None, notes: str = "", total: int = 0
    ) -> "tuple[ReleaseJob, bool]":
        """Ask the worker to publish release `number`; returns (the row, whether this started
        it). Nothing starts while another is waiting or being published, however many press
        at once: the UPDATE re-checks the state (a second one waits for the first's row lock,
        then finds it in progress)."""
        at = timezone.now()
        fields = {
            "job": uuid.uuid4(),
            "state": cls.State.WAITING,
            "number": number,
            "notes": notes,
            "requested_by": by,
            "requested_by_name": person_name(by),
            "requested_at": at,
            "started_at": None,
            "finished_at": None,
            "stalls_at": at + allowance(total),
            "total": total,
            "done": 0,
            "release": None,
            "problem": "",
        }
        with transaction.atomic(savepoint=False):
            existing = cls.objects.filter(call=call).first()
            if existing is None:
                try:
                    with transaction.atomic():
                        return cls.objects.create(call=call, **fields), True
                except IntegrityError:  # asked for at the same moment by someone else
                    existing = cls.objects.get(call=call)
            startable = ~Q(state__in=cls.IN_PROGRESS) | Q(stalls_at__lte=at)
            if cls.objects.filter(startable, pk=existing.pk).update(**fields):
                for name, value in fields.items():
                    setattr(existing, name, value)
                return existing, True
            return cls.objects.get(pk=existing.pk), False

    @classmethod
    def claim(cls, pk: int, job: str) -> bool:
        """The worker takes the job, if it is still the one asked for and nobody took it."""
        at = timezone.now()
        waiting = cls.objects.filter(pk=pk, job=job, state=cls.State.WAITING)
        total = waiting.values_list("total", flat=True).first()
        if total is None:
            return False
        return bool(
            waiting.update(
                state=cls.State.PUBLISHING, started_at=at, stalls_at=at + allowance(total)
            )
        )

    def finish(self, *, release: "Release | None", problem: str = "") -> bool:
        """Record how it ended: published (with its release), or not (and why)."""
        state = self.State.DONE if release is not None else self.State.FAILED
        return bool(
            ReleaseJob.objects.filter(pk=self.pk, job=self.job).update(
                state=state, release=release, problem=problem, finished_at=timezone.now()
            )
        )


# A release of 300,000 contributions took about two minutes here (docs/benchmarks.md); a job
# still in progress after ten times its expected time, and ten minutes more, is taken for lost.
SECONDS_PER_CONTRIBUTION = 0.0005


def allowance(total: int) -> timedelta:
    return timedelta(seconds=600 + 10 * SECONDS_PER_CONTRIBUTION * total)


class PublicChange(models.Model):
    """A submitted submission whose public outputs may have changed, and when: included or no
    longer, withdrawn, withheld or no longer, its credit details or its themes.

    Written only by PostgreSQL's triggers (migration 0026); read by the release preview
    (publishing/releases.py, pending_changes), which then compares only what changed since the
    latest release rather than every contribution in it (300,000 took seconds). SQLite keeps it
    empty, and the preview compares everything there.
    """

    # No foreign key, as the tally: a trigger's insert would take a share lock on the row.
    submission_id = models.BigIntegerField(unique=True)
    changed_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"Submission {self.submission_id} changed at {self.changed_at}"


class ReleaseSegment(models.Model):
    """A slice of a release's two data files (CSV and JSON rows), stored as built."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="segments")
    index = models.PositiveIntegerField()
    rows = models.PositiveIntegerField(default=0)
    csv_name = models.CharField(max_length=255, blank=True)
    csv_size = models.PositiveBigIntegerField(default=0)
    csv_sha256 = models.CharField(max_length=64, blank=True)
    json_name = models.CharField(max_length=255, blank=True)
    json_size = models.PositiveBigIntegerField(default=0)
    json_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["release", "index"]
        constraints = [
            models.UniqueConstraint(fields=["release", "index"], name="release_segment_unique")
        ]

    def __str__(self) -> str:
        return f"Segment {self.index} of release {self.release_id}"


@receiver(post_delete, sender=ReleaseSegment)
def _delete_segment_files_after_commit(sender, instance: ReleaseSegment, **kwargs) -> None:
    names = [name for name in (instance.csv_name, instance.json_name) if name]
    transaction.on_commit(lambda: delete_stored(names), robust=True)


def delete_stored(names: list[str], storage: Storage | None = None) -> None:
    storage = storage or release_storage()
    for name in names:
        try:
            storage.delete(name)
        except Exception:
            logger.exception("Could not delete release file %s", name)


class Redaction(models.Model):
    """Words kept out of the public text of a contribution, and why.

    `part` names what is redacted: "answer:<question id>" or "link:<index>". `text` is the words
    (every occurrence, ignoring case); empty for the whole answer or link. The credit line is
    never redacted: a contributor's own credit preference decides it.
    """

    class Reason(models.TextChoices):
        THIRD_PARTY = "third_party", "Personal data of a third party"
        CONTRIBUTOR = "contributor", "Personal data of the contributor"
        DEFAMATORY = "defamatory", "Possibly defamatory"
        OFF_TOPIC = "off_topic", "Off-topic"
        OTHER = "other", "Other (say why in the note)"

    # What the public reads in the redacted words' place.
    PUBLIC_WORDING = {
        Reason.THIRD_PARTY: "[redacted: personal data]",
        Reason.CONTRIBUTOR: "[redacted: personal data]",
        Reason.DEFAMATORY: "[redacted: legal reasons]",
        Reason.OFF_TOPIC: "[redacted: off-topic]",
        Reason.OTHER: "[redacted]",
    }

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="redactions")
    part = models.CharField(max_length=30)
    text = models.TextField(blank=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["submission", "created_at", "id"]

    def __str__(self) -> str:
        return f"Redaction of {self.part} in {self.submission_id}"

    @property
    def public_wording(self) -> str:
        return self.PUBLIC_WORDING[self.Reason(self.reason)]

    @staticmethod
    def answer_part(question: Question | int) -> str:
        return f"answer:{question if isinstance(question, int) else question.pk}"

    @staticmethod
    def link_part(index: int) -> str:
        return f"link:{index}"

    def describe(self, questions: dict[int, Question] | None = None) -> str:
        """How the submission's history names it: where, what and why."""
        kind, _, key = self.part.partition(":")
        if kind == "answer":
            question = (questions or {}).get(int(key))
            where = f"Answer to question {question.position}" if question else "An answer"
        else:
            where = f"Link {int(key) + 1}"
        what = f"“{self.text}”" if self.text else "the whole of it"
        why = self.get_reason_display().removesuffix(" (say why in the note)")
        return f"{where}, {what}: {why}" + (f" ({self.note})" if self.note else "")

    @classmethod
    def add(
        cls,
        submission: Submission,
        *,
        part: str,
        text: str,
        reason: str,
        note: str = "",
        by=None,
    ) -> "Redaction | None":
        """Redact, with the history of who and why; None once the contribution is released.

        A released contribution's text is what its releases' files hold: to redact it, withhold
        it first (it leaves every release at once), then redact and publish a new release.
        """
        from .review import ReviewChange  # review.py imports submission.py, as this does

        with transaction.atomic():
            # The call's row: a release being published (which holds it) sees all or none.
            Call.objects.select_for_update().filter(pk=submission.call_id).first()
            if is_released(submission):
                return None
            redaction = cls.objects.create(
                submission=submission,
                part=part,
                text=text,
                reason=reason,
                note=note,
                created_by=by,
                created_by_name=person_name(by),
            )
            questions = {q.pk: q for q in submission.call.questions.all()}
            ReviewChange.objects.create(
                submission=submission,
                changed_by=by,
                changed_by_name=person_name(by),
                field=ReviewChange.Field.REDACTION,
                old_value="",
                new_value=redaction.describe(questions),
            )
        return redaction

    def remove(self, by=None) -> bool:
        """Undo this redaction, before the contribution is released; recorded in the history."""
        from .review import ReviewChange

        with transaction.atomic():
            Call.objects.select_for_update().filter(pk=self.submission.call_id).first()
            if is_released(self.submission) or not Redaction.objects.filter(pk=self.pk).exists():
                return False
            questions = {q.pk: q for q in self.submission.call.questions.all()}
            ReviewChange.objects.create(
                submission=self.submission,
                changed_by=by,
                changed_by_name=person_name(by),
                field=ReviewChange.Field.REDACTION,
                old_value=self.describe(questions),
                new_value="Removed",
            )
            self.delete()
        return True


def is_released(submission: Submission) -> bool:
    """Whether any release (still) shows this contribution."""
    return ReleaseEntry.objects.filter(contribution__submission=submission).exists()


def person_name(user) -> str:
    """A member of staff as the history names them (review/history.py's person(), for models)."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()

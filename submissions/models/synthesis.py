"""After the What Works event: how its synthesis pack is printed, and what it learned per theme."""

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from ..common.storage import get_attachment_storage
from .call import Call, Theme
from .review import ReviewChange
from .submission import Submission, erased, withdrawal_requested

logger = logging.getLogger(__name__)

# In a pack's theme order, the contributions that have no theme.
NO_THEME_ID = 0


class SynthesisPack(models.Model):
    """The staff's choices for a call's pack: which themes, in which order, and whether
    shortlisted contributions go in beside the included ones. Without a row, the pack holds
    every theme of the included contributions by name, and no shortlisted one."""

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="synthesis_pack")
    # Theme ids in the order they are printed; NO_THEME_ID for contributions without a theme.
    theme_order = models.JSONField(default=list, blank=True)
    include_shortlisted = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by_name = models.CharField(max_length=150, blank=True)

    def __str__(self) -> str:
        return f"Synthesis pack of {self.call}"


# How long the worker takes per contribution printed (one under two themes counts twice), when
# no PDF of the call has been made yet: 0.14 to 0.24 s on a loaded 2-core machine (158 printed,
# 376 pages, docs/benchmarks.md). After the first PDF, the call's own pace is used.
DEFAULT_SECONDS_PER_ENTRY = 0.2
# A PDF still waiting or being made this long after it was asked for or started (and at least
# three times its estimate) is taken as lost, a worker that died or was restarted mid-way, and
# may be asked for again.
LEAST_ALLOWANCE = timedelta(minutes=15)


def pack_pdf_key(instance: "SynthesisPackPdf", filename: str) -> str:
    """A random object key in the pack's own folder (manage.py sweep_files knows it)."""
    return f"packs/{uuid.uuid4().hex}.pdf"


class SynthesisPackPdf(models.Model):
    """The call's synthesis pack as a PDF, made by the task worker rather than in a request (a
    big pack takes minutes): one row per call, describing the latest PDF asked for and, once
    made, its file. The file is kept in the attachments' private storage, under packs/.

    The PDF is made from the options as they were when it was asked for, kept here. Asking
    again while one is waiting or being made starts nothing (a conditional UPDATE), unless that
    one is lost (past `stalls_at`). Each request has its own `job`: a task for an older one
    finds nothing to do. A file holding a contribution that is then withdrawn or erased is
    deleted at once (the contributor's data must not outlive their request).
    """

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting for the worker"
        MAKING = "making", "Being made"
        READY = "ready", "Ready"
        FAILED = "failed", "Could not be made"
        DELETED = "deleted", "Deleted"

    IN_PROGRESS = (State.WAITING, State.MAKING)

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="synthesis_pack_pdf")
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    job = models.UUIDField(default=uuid.uuid4)
    # The pack's options when the PDF was asked for (SynthesisPack's fields): it is made from these.
    theme_order = models.JSONField(default=list, blank=True)
    include_shortlisted = models.BooleanField(default=False)
    # Contributions it prints, one under two themes counted twice: what its time depends on.
    entries = models.PositiveIntegerField(default=0)
    requested_at = models.DateTimeField(default=timezone.now)
    requested_by_name = models.CharField(max_length=150, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    stalls_at = models.DateTimeField(default=timezone.now)
    file = models.FileField(
        upload_to=pack_pdf_key, max_length=200, blank=True, storage=get_attachment_storage
    )
    size = models.PositiveBigIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    # The submissions printed in the file, by id (before it is made, those it should print):
    # withdrawing or erasing one deletes the file.
    contributions = models.JSONField(default=list, blank=True)
    seconds = models.FloatField(null=True, blank=True)  # how long the worker took
    # From the last PDF made, kept across requests: the next one's estimate.
    seconds_per_entry = models.FloatField(null=True, blank=True)
    problem = models.TextField(blank=True)  # why it could not be made, or why it was deleted

    class Meta:
        verbose_name = "synthesis pack PDF"

    def __str__(self) -> str:
        return f"PDF of the synthesis pack of {self.call}"

    @property
    def in_progress(self) -> bool:
        return self.state in self.IN_PROGRESS

    def stalled(self, at: datetime | None = None) -> bool:
        return self.in_progress and (at or timezone.now()) >= self.stalls_at

    @property
    def estimate(self) -> float:
        """Seconds the worker should take, from the last PDF of this call (or the benchmark's)."""
        return estimate(self.entries, self.seconds_per_entry)

    @property
    def ready(self) -> bool:
        return self.state == self.State.READY and bool(self.file.name)

    def same_options(self, options: "SynthesisPack") -> bool:
        return (
            self.theme_order == list(options.theme_order)
            and self.include_shortlisted == options.include_shortlisted
        )

    def up_to_date(self, options: "SynthesisPack", printed: set[int]) -> bool:
        """Ready, made with these options, printing exactly these contributions, none of them
        changed since in what it prints (changed_since())."""
        return (
            self.ready
            and self.same_options(options)
            and set(self.contributions) == printed
            and not self.changed_since()
        )

    # What the PDF prints of a contribution that can change after it is made, each change
    # recorded in the submission's history: the credit line (its contributor corrects it on
    # the status page) and the themes it is printed under (a reviewer's).
    PRINTED_CHANGES = (
        ReviewChange.Field.NAME,
        ReviewChange.Field.ORGANISATION,
        ReviewChange.Field.ORCID,
        ReviewChange.Field.CREDIT_PREFERENCE,
        ReviewChange.Field.CO_CONTRIBUTORS,
        ReviewChange.Field.THEMES,
    )

    def changed_since(self) -> int:
        """How many of the contributions it prints had their credit details or themes changed
        since it was made (from when the worker began it: a change while it was being made may
        be in it or not, so it counts). One query; none before it is made."""
        made_from = self.started_at
        if made_from is None or not self.contributions:
            return 0
        return (
            ReviewChange.objects.filter(
                submission_id__in=self.contributions,
                field__in=self.PRINTED_CHANGES,
                changed_at__gte=made_from,
            )
            .values("submission_id")
            .distinct()
            .count()
        )

    def options(self) -> "SynthesisPack":
        """The options it is made from, as an unsaved SynthesisPack."""
        return SynthesisPack(
            call=self.call,
            theme_order=list(self.theme_order),
            include_shortlisted=self.include_shortlisted,
        )

    @classmethod
    def request(
        cls,
        call: Call,
        options: "SynthesisPack",
        *,
        printed: set[int],
        entries: int,
        by_name: str,
        again: bool = True,
        at: datetime | None = None,
    ) -> "tuple[SynthesisPackPdf, bool]":
        """Ask for a PDF of the pack with these options, which print these contributions (and
        this many entries); returns (the row, whether this started a new one). Without `again`,
        a ready PDF that is up to date is kept. Nothing starts while another is waiting or being
        made, however many press at once: the write re-checks the state. The previous file is
        deleted once this commits."""
        at = at or timezone.now()
        existing = cls.objects.filter(call=call).first()
        if existing is not None and not again and existing.up_to_date(options, printed):
            return existing, False
        fields = {
            "state": cls.State.WAITING,
            "job": uuid.uuid4(),
            "theme_order": list(options.theme_order),
            "include_shortlisted": options.include_shortlisted,
            "entries": entries,
            "requested_at": at,
            "requested_by_name": by_name,
            "started_at": None,
            "finished_at": None,
            "stalls_at": at + allowance(entries, existing.seconds_per_entry if existing else None),
            "file": "",
            "size": 0,
            "pages": 0,
            "contributions": sorted(printed),  # what it should print; what it did, once made
            "seconds": None,
            "problem": "",
        }
        with transaction.atomic(savepoint=False):
            if existing is None:
                try:
                    with transaction.atomic():
                        return cls.objects.create(call=call, **fields), True
                except IntegrityError:  # asked for at the same moment by someone else
                    existing = cls.objects.get(call=call)
            # Twice at most: the file can change under us only when a lost job finishes.
            for _ in range(2):
                startable = ~Q(state__in=cls.IN_PROGRESS) | Q(stalls_at__lte=at)
                started = cls.objects.filter(startable, pk=existing.pk, file=existing.file.name)
                if started.update(**fields):
                    delete_file_after_commit(existing.file.name)
                    for name, value in fields.items():
                        setattr(existing, name, value)
                    return existing, True
                existing = cls.objects.get(pk=existing.pk)
                if existing.in_progress and not existing.stalled(at):
                    break
        return existing, False

    @classmethod
    def claim(cls, pk: int, job: str, at: datetime | None = None) -> bool:
        """The worker takes the job, if it is still the one asked for and nobody took it."""
        at = at or timezone.now()
        waiting = cls.objects.filter(pk=pk, job=job, state=cls.State.WAITING)
        row = waiting.values_list("entries", "seconds_per_entry").first()
        if row is None:
            return False
        entries, rate = row
        return bool(
            waiting.update(
                state=cls.State.MAKING, started_at=at, stalls_at=at + allowance(entries, rate)
            )
        )

    def store(
        self,
        job: str,
        *,
        name: str,
        size: int,
        pages: int,
        contributions: Iterable[int],
        seconds: float,
        at: datetime | None = None,
    ) -> str:
        """Record the file the worker made: "stored"; "superseded" if this job is no longer the
        one asked for; "changed" if one of its contributions was withdrawn or erased meanwhile
        (the caller deletes the file and makes it again).

        Under the row's lock, which a withdrawal or erasure takes too (discard_holding): either
        this sees the contribution gone, or the other sees this file and deletes it.
        """
        at = at or timezone.now()
        printed = sorted(contributions)
        with transaction.atomic():
            row = (
                SynthesisPackPdf.objects.select_for_update()
                .filter(pk=self.pk, job=job, state=self.State.MAKING)
                .only("pk", "file", "entries")
                .first()
            )
            if row is None:
                return "superseded"
            still_there = Submission.objects.filter(
                pk__in=printed,
                state=Submission.State.SUBMITTED,
                withdrawal_requested_at__isnull=True,
            ).count()
            if still_there != len(printed):
                return "changed"
            SynthesisPackPdf.objects.filter(pk=self.pk).update(
                state=self.State.READY,
                file=name,
                size=size,
                pages=pages,
                contributions=printed,
                seconds=seconds,
                seconds_per_entry=seconds / max(row.entries, 1),
                finished_at=at,
                problem="",
            )
            if row.file.name and row.file.name != name:
                delete_file_after_commit(row.file.name)
        return "stored"

    def record_failure(self, job: str, problem: str, at: datetime | None = None) -> bool:
        making = SynthesisPackPdf.objects.filter(pk=self.pk, job=job, state=self.State.MAKING)
        return bool(
            making.update(
                state=self.State.FAILED, problem=problem, finished_at=at or timezone.now()
            )
        )

    @classmethod
    def discard_holding(cls, submission: Submission, reason: str) -> bool:
        """Delete the call's PDF if it prints this submission (withdrawn, or being erased)."""
        with transaction.atomic():
            row = cls.objects.select_for_update().filter(call_id=submission.call_id).first()
            if (
                row is None
                or row.state != cls.State.READY
                or submission.pk not in row.contributions
            ):
                return False
            cls.objects.filter(pk=row.pk).update(
                state=cls.State.DELETED,
                file="",
                size=0,
                pages=0,
                contributions=[],
                problem=reason,
                finished_at=timezone.now(),
            )
            delete_file_after_commit(row.file.name)
        return True


def estimate(entries: int, seconds_per_entry: float | None) -> float:
    return entries * (seconds_per_entry or DEFAULT_SECONDS_PER_ENTRY)


def allowance(entries: int, seconds_per_entry: float | None) -> timedelta:
    return max(LEAST_ALLOWANCE, timedelta(seconds=3 * estimate(entries, seconds_per_entry)))


def delete_file_after_commit(name: str) -> None:
    """Delete a pack's stored file once the transaction that let go of it commits; one that
    cannot be deleted is left for `manage.py sweep_files`."""
    if not name:
        return
    storage = get_attachment_storage()

    def delete() -> None:
        try:
            storage.delete(name)
        except Exception:
            logger.exception("Could not delete the pack PDF %s", name)

    transaction.on_commit(delete, robust=True)


@receiver(withdrawal_requested, sender=Submission)
def _discard_pdf_on_withdrawal(submission: Submission, **kwargs) -> None:
    SynthesisPackPdf.discard_holding(
        submission, "A contribution in it was withdrawn by its contributor."
    )


@receiver(erased, sender=Submission)
def _discard_pdf_on_erasure(submission: Submission, **kwargs) -> None:
    SynthesisPackPdf.discard_holding(submission, "A contribution in it was erased.")


@receiver(post_delete, sender=SynthesisPackPdf)
def _delete_pdf_with_its_row(sender, instance: SynthesisPackPdf, **kwargs) -> None:
    # A deleted call takes its row with it (a cascade calls no delete()); the file follows.
    delete_file_after_commit(instance.file.name)


class SynthesisNote(models.Model):
    """What the event learned about one theme of a call, and which contributions informed it.

    Staff write it; a call manager publishes it on the call's outcome page. Every change is
    kept in SynthesisNoteChange, as review decisions are in ReviewChange.
    """

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="synthesis_notes")
    # A theme that has notes cannot be deleted: what the event learned is not lost with a tag.
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="synthesis_notes")
    text = models.TextField(
        "what the event learned",
        blank=True,
        help_text="A few paragraphs. Blank lines separate paragraphs; lines starting '- ' "
        "make a list.",
    )
    informed_by = models.ManyToManyField(Submission, blank=True, related_name="synthesis_notes")
    published = models.BooleanField("show on the outcome page", default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["call", "theme__name"]
        constraints = [
            models.UniqueConstraint(fields=["call", "theme"], name="synthesis_note_one_per_theme")
        ]

    def __str__(self) -> str:
        return f"What the event learned about {self.theme} ({self.call})"

    @classmethod
    def record(
        cls,
        call: Call,
        theme: Theme,
        *,
        text: str,
        informed_by: Iterable[Submission],
        published: bool | None,
        by,
        by_name: str,
        at: datetime | None = None,
    ) -> "list[SynthesisNoteChange]":
        """Write the note of this theme (made on first use) and keep each change in its history.

        `published=None` leaves it as it is (staff who may not publish). The note's row is
        locked while it is read and written, so two people saving at once each record a
        change from what the other saved, never from a stale copy.
        """
        at = at or timezone.now()
        informed = sorted(informed_by, key=lambda s: s.reference or "")
        with transaction.atomic():
            note, _ = cls.objects.select_for_update().get_or_create(call=call, theme=theme)
            before = note.snapshot()
            note.text = text
            if published is not None:
                note.published = published
            note.save(update_fields=["text", "published", "updated_at"])
            note.informed_by.set(informed)
            after = note.snapshot(informed)
            changes = [
                SynthesisNoteChange(
                    note=note,
                    changed_by=by,
                    changed_by_name=by_name,
                    changed_at=at,
                    field=field,
                    old_value=before[field],
                    new_value=after[field],
                )
                for field in SynthesisNoteChange.Field.values
                if before[field] != after[field]
            ]
            return SynthesisNoteChange.objects.bulk_create(changes)

    def snapshot(self, informed_by: Iterable[Submission] | None = None) -> dict[str, str]:
        """The note as its history shows it: contributions by reference."""
        if informed_by is None:
            informed_by = self.informed_by.only("reference") if self.pk else []
        references = sorted(s.reference or f"(draft {s.pk})" for s in informed_by)
        return {
            "text": self.text,
            "informed_by": ", ".join(references),
            "published": "Yes" if self.published else "No",
        }


class SynthesisNoteChange(models.Model):
    """One change to a synthesis note: who, when, from what to what, in the words staff saw."""

    class Field(models.TextChoices):
        TEXT = "text", "What the event learned"
        INFORMED_BY = "informed_by", "Informed by"
        PUBLISHED = "published", "Shown on the outcome page"

    note = models.ForeignKey(SynthesisNote, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_by_name = models.CharField(max_length=150, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)
    field = models.CharField(max_length=20, choices=Field.choices)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_field_display()} of {self.note_id} at {self.changed_at}"

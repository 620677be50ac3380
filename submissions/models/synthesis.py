"""After the What Works event: how its synthesis pack is printed, and what it learned per theme."""

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from .call import Call, Theme
from .submission import Submission

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

"""The forms of a call's outcome screens: the pack's themes and order, a theme's synthesis note,
and the toolkit's link."""

from django import forms
from django.db.models import Q, QuerySet

from ...models import Call, Submission, SynthesisPack, Theme
from ...publishing.pack import ThemeChoice, pack_statuses
from .staff_forms import StaffTextMixin

MAX_POSITION = 999


class PackOptionsForm(StaffTextMixin, forms.Form):
    """A tick and a position for each theme on offer, and whether shortlisted ones go in."""

    include_shortlisted = forms.BooleanField(
        label="Include shortlisted contributions",
        required=False,
        help_text="Printed after the included ones of each theme, marked “Shortlisted”.",
    )

    def __init__(self, *args, choices: list[ThemeChoice], **kwargs):
        super().__init__(*args, **kwargs)
        self.choices = choices
        for n, choice in enumerate(choices, start=1):
            self.fields[f"theme_{choice.id}"] = forms.BooleanField(
                label=f"Put “{choice.name}” in the pack", required=False, initial=choice.chosen
            )
            self.fields[f"order_{choice.id}"] = forms.IntegerField(
                label=f"Position of “{choice.name}”",
                required=False,
                min_value=1,
                max_value=MAX_POSITION,
                initial=choice.position or n,
            )

    def rows(self) -> list[tuple[ThemeChoice, forms.BoundField, forms.BoundField]]:
        return [(c, self[f"theme_{c.id}"], self[f"order_{c.id}"]) for c in self.choices]

    def theme_order(self) -> list[int]:
        """The ticked themes by their position. Of two at one position, the one whose position
        was just typed goes first (moving a theme to 1 puts it first); then the list's order."""
        ticked = []
        for n, choice in enumerate(self.choices):
            if not self.cleaned_data[f"theme_{choice.id}"]:
                continue
            name = f"order_{choice.id}"
            position = self.cleaned_data[name] or MAX_POSITION
            typed = name in self.changed_data
            ticked.append((position, not typed, n, choice.id))
        return [theme_id for *_, theme_id in sorted(ticked)]

    def save(self, call: Call, by_name: str) -> SynthesisPack:
        pack, _ = SynthesisPack.objects.update_or_create(
            call=call,
            defaults={
                "theme_order": self.theme_order(),
                "include_shortlisted": self.cleaned_data["include_shortlisted"],
                "updated_by_name": by_name,
            },
        )
        return pack


class ContributionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Submission) -> str:
        credit = obj.credit_line() or "not named, at the contributor's request"
        status = "" if obj.review_status == Submission.ReviewStatus.INCLUDED else " (shortlisted)"
        return f"{obj.reference}: {credit}{status}"


def informing_candidates(call: Call, theme: Theme, current: list[int]) -> QuerySet[Submission]:
    """The theme's contributions in the pack (included or shortlisted, never withdrawn), and
    any the note already names."""
    in_pack = Q(
        themes=theme,
        review_status__in=pack_statuses(include_shortlisted=True),
        withdrawal_requested_at__isnull=True,
    )
    return (
        Submission.objects.filter(call=call, state=Submission.State.SUBMITTED)
        .filter(in_pack | Q(pk__in=current))
        .distinct()
        .only(
            "reference",
            "review_status",
            "name",
            "organisation",
            "credit_preference",
            "co_contributors",
        )
        .order_by("reference")
    )


class SynthesisNoteForm(StaffTextMixin, forms.Form):
    text = forms.CharField(
        label="What the event learned",
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "class": "vLargeTextField"}),
        help_text="A few paragraphs, in plain words: they appear on the public outcome page "
        "once published. Blank lines separate paragraphs; lines starting “- ” make a list.",
    )
    informed_by = ContributionChoiceField(
        label="Contributions that informed it",
        queryset=Submission.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    published = forms.BooleanField(
        label="Show on the outcome page",
        required=False,
        help_text="Only call managers publish.",
    )

    def __init__(self, *args, candidates: QuerySet[Submission], may_publish: bool, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["informed_by"]
        assert isinstance(field, ContributionChoiceField)
        field.queryset = candidates
        self.fields["published"].disabled = not may_publish


class ToolkitForm(StaffTextMixin, forms.Form):
    error_labels = {"toolkit_url": "The link to the toolkit"}

    toolkit_url = forms.URLField(
        label="Link to the toolkit",
        max_length=500,
        assume_scheme="https",
        help_text="Where the published toolkit is read: it goes in the emails and on the "
        "outcome page.",
    )
    thank_other_contributors = forms.BooleanField(
        label="Also thank every other contributor, with a link to the outcome page",
        required=False,
    )

    def clean_toolkit_url(self) -> str:
        url = self.cleaned_data["toolkit_url"]
        if not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError(
                "Enter the toolkit's web address, starting https://", code="not_web"
            )
        return url

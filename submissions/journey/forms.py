"""Forms of the contributor's journey; validation lives here, with a code on every error."""

import re
from typing import TYPE_CHECKING, ClassVar, cast
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError

from ..common.text import (
    printable_for_html,
    reject_control_characters,
    reject_line_breaks_and_invisible,
    whole_number,
)
from ..common.wording import human_size
from ..models import (
    CREDIT_FIELDS,
    MAX_CO_CONTRIBUTORS,
    AttachmentLimitReached,
    Call,
    CheckedFile,
    Question,
    Submission,
)
from .file_checks import ALLOWED_LIST, check_upload, display_name

ORCID_PATTERN = re.compile(r"^(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dX])$")
MAX_LINKS = 20
http_url = URLValidator(schemes=["http", "https"])
# A Mastodon (fediverse) handle, @user@server: the one kind of handle that names its network.
FEDIVERSE_HANDLE = re.compile(
    r"^@(?P<user>[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*)@(?P<server>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$"
)
# "mailto:x@example.org", "javascript:..." : a scheme other than a web address's.
OTHER_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:(?!//|\d)", re.IGNORECASE)


def normalise_web_address(raw: str) -> str:
    """A web address as typed, with https:// added when it has no scheme; ValueError if not one.

    "twitter.com/x" and "www.example.org/toolkit" become https:// addresses; anything but
    http(s), or with a user name before the host, is refused.
    """
    value = raw.strip()
    if OTHER_SCHEME.match(value):
        raise ValueError(value)
    if "://" not in value:
        value = "https://" + value
    try:
        http_url(value)
    except ValidationError:
        raise ValueError(value) from None
    if "@" in urlsplit(value).netloc:
        raise ValueError(value)
    return value


def quoted(line: str, limit: int = 60) -> str:
    """A line of the person's own input, quoted in an error message (long ones shortened), with
    what HTML cannot hold (a NUL, an ESC) shown as U+FFFD."""
    line = printable_for_html(line, one_line=True)
    return f"“{line if len(line) <= limit else line[: limit - 1] + '…'}”"


def drop_browser_maxlength(form: forms.BaseForm) -> None:
    """No maxlength attribute: the browser would cut typing and pasting silently.

    The server refuses an over-long value with a message instead, and keeps the text.
    """
    for field in form.fields.values():
        field.widget.attrs.pop("maxlength", None)


def orcid_check_digit(base_digits: str) -> str:
    """ISO 7064 11,2 check character of the first 15 digits of an ORCID iD."""
    total = 0
    for digit in base_digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def normalise_orcid(raw: str) -> str:
    value = raw.strip().upper()
    for prefix in ("HTTPS://ORCID.ORG/", "HTTP://ORCID.ORG/", "ORCID.ORG/"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    match = ORCID_PATTERN.match(value)
    if not match:
        raise ValidationError(
            "Enter your ORCID iD in the format 0000-0002-1825-0097", code="orcid_format"
        )
    digits = "".join(match.groups())
    if orcid_check_digit(digits[:15]) != digits[15]:
        raise ValidationError(
            "Enter your ORCID iD exactly as it appears in your ORCID record; "
            "this one has a mistake in it (its check digit does not match)",
            code="orcid_checksum",
        )
    return "-".join(match.groups())


if TYPE_CHECKING:
    from django.forms.utils import ErrorDict
    from django.http import HttpRequest, QueryDict

    _Form = forms.BaseForm
else:
    _Form = object


class ShowsBackPrintableMixin(_Form):
    """A form shown again with errors shows what was typed, in every field, hidden ones too,
    minus what HTML cannot hold (a NUL, an ESC: U+FFFD instead) and, in one-line boxes, line
    breaks. Every form of a public page has it: the field's error says what was wrong."""

    _errors: "ErrorDict"  # set by full_clean(); not in the stubs

    def full_clean(self):
        super().full_clean()
        if self.is_bound and self._errors and hasattr(self.data, "lists"):
            shown = cast("QueryDict", self.data).copy()
            for name, values in self.data.lists():
                field = self.fields.get(name.removeprefix(self.add_prefix("")))
                one_line = field is not None and not isinstance(field.widget, forms.Textarea)
                shown.setlist(name, [printable_for_html(v, one_line=one_line) for v in values])
            self.data = shown


class CleanTextMixin(ShowsBackPrintableMixin):
    """Reject control characters in every text field, and line breaks and invisible characters
    in every one-line field, naming the field (`error_labels` names a field whose label is long).

    The admin's forms refuse control characters only (`one_line_rules = False`): staff copy
    words from a contributor's answer into a one-line box (the words to redact), invisible
    joiners and all."""

    one_line_rules: ClassVar[bool] = True
    error_labels: ClassVar[dict[str, str]] = {}
    # Errors that already say what is wrong with the characters: not said a second time.
    CHARACTER_ERRORS = frozenset(
        {"null_characters", "control_characters", "line_breaks", "invisible_characters"}
    )

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # BaseForm.clean() returns cleaned_data
        self.refuse_characters(cleaned)
        return cleaned

    def left_to_the_model(self, name: str, value: object) -> bool:
        """Whether the model's own validators refuse this value, with their message (admin)."""
        return False

    def refuse_characters(self, cleaned: dict) -> None:
        for name, field in self.fields.items():
            # A value the field refused already ("not an email address") is checked as typed
            # too: the characters, if they are what is wrong, are worth explaining.
            refused = name in self._errors
            value = self[name].data if refused else cleaned.get(name)
            if not refused and self.left_to_the_model(name, value):
                continue
            label = (
                self.error_labels.get(name)
                or getattr(field, "error_label", "")
                or (field.label or name)
            )
            label = label.replace(" (optional)", "")
            try:
                if self.one_line_rules and not isinstance(
                    field.widget, forms.Textarea | forms.RadioSelect
                ):
                    reject_line_breaks_and_invisible(value, label)
                reject_control_characters(value, label)
            except ValidationError as error:
                if not refused:
                    self.add_error(name, error)
                elif not {e.code for e in self._errors[name].as_data()} & self.CHARACTER_ERRORS:
                    self._errors[name].extend(error.error_list)


class ForLaterMixin(_Form):
    """Save and come back later: never refused for an answer not given yet.

    With `for_later=True` no field is required and no "answer at least one" rule applies; the
    rules on what a value may be still do. `columns_for_later()` is what may be saved: each
    valid value, never an invalid one (it stays at its field, with its message), and never an
    empty required box over what was saved before, so that saving for later never turns a
    finished step back into an unfinished one.
    """

    def __init__(self, *args, for_later: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.for_later = for_later
        self.required_to_finish: set[str] = set()

    def full_clean(self):
        # Required when the step is finished with Continue; waived while cleaning only, so that
        # the page still marks them as required.
        self.required_to_finish = {name for name, f in self.fields.items() if f.required}
        if not self.for_later:
            return super().full_clean()
        for name in self.required_to_finish:
            self.fields[name].required = False
        try:
            return super().full_clean()
        finally:
            for name in self.required_to_finish:
                self.fields[name].required = True

    def valid_values(self) -> dict:
        """The cleaned value of each field without an error, but for empty required ones."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in self.errors
            and not (name in self.required_to_finish and value in ("", None))
        }


class ConsentForm(ShowsBackPrintableMixin, forms.Form):
    consent = forms.TypedChoiceField(
        choices=[("yes", "Yes"), ("no", "No")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select yes if you are happy for your evidence to be shared "
            "under this licence",
            "invalid_choice": "Select yes or no",
        },
    )

    # A honeypot: hidden by site.css (#div_id_homepage), so only a bot fills it in.
    homepage = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    # The page's heading and the radios' legend: short, so that on a phone the radios are not
    # pushed off the screen. The call's exact consent wording, whose hash is kept with each
    # consent, is the first thing in the hint that the radios are described by.
    QUESTION = "Do you agree to the licence?"

    def __init__(self, *args, call: Call, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consent"].label = self.QUESTION
        self.call = call


# The button that shows one more co-contributor row (templates/submissions/_co_contributors.html),
# and the query parameter of the page it leads back to, without JavaScript.
ADD_CO_CONTRIBUTOR = "add_co_contributor"
CO_ROWS = "co"


def co_rows_asked(request: "HttpRequest") -> int:
    """How many co-contributor rows "Add another" asked for (0 for none)."""
    raw = request.POST.get(ADD_CO_CONTRIBUTOR) or request.GET.get(CO_ROWS) or ""
    return min(whole_number(raw) or 0, MAX_CO_CONTRIBUTORS)


def add_another_url(url: str, rows: int, changing: bool = False) -> str:
    """The page again, with `rows` co-contributor rows and the newest one in view."""
    query = f"{CO_ROWS}={rows}" + ("&return_to=check" if changing else "")
    return f"{url}?{query}#co-contributor-{rows}"


def organisation_for_credit() -> ValidationError:
    return ValidationError(
        "Enter your organisation, or choose another way to be credited",
        code="organisation_for_credit",
    )


# (key in Submission.co_contributors, label, most characters) for each co-contributor.
CO_CONTRIBUTOR_PARTS = [
    ("name", "Full name", 200),
    ("organisation", "Organisation (optional)", 200),
    ("orcid", "ORCID iD (optional)", 60),
]


class CreditDetailsForm(CleanTextMixin, forms.ModelForm):
    """The details a credit line is made of: name, organisation, ORCID iD and the credit choice.

    About you asks for them with the rest (AboutYouForm); the status page lets a contributor
    correct them after sending (publishing/forms.py).
    """

    # Longer than the stored iD, so that a pasted https://orcid.org/... link can be trimmed.
    orcid = forms.CharField(
        label="ORCID iD (optional)",
        required=False,
        max_length=60,
        help_text="For example, 0000-0002-1825-0097",
    )

    class Meta:
        model = Submission
        fields = ["name", "organisation", "orcid", "credit_preference"]
        labels = {
            "name": "Full name",
            "organisation": "Organisation",
            "credit_preference": "How should we credit you in the toolkit?",
        }
        widgets = {"credit_preference": forms.RadioSelect}
        error_messages = {
            "name": {"required": "Enter your full name"},
            # Not Django's "… is not one of the available choices": it would echo a forged value.
            "credit_preference": {
                "required": "Select how you would like to be credited",
                "invalid_choice": "Select how you would like to be credited",
            },
        }

    def __init__(self, *args, co_rows: int = 0, **kwargs):
        """`co_rows`: how many co-contributor rows to show at least (after "Add another")."""
        super().__init__(*args, **kwargs)
        self.fields["name"].required = True
        self.fields["organisation"].required = False
        self.fields["credit_preference"].required = True
        credit = cast(forms.ChoiceField, self.fields["credit_preference"])
        credit.choices = Submission.Credit.choices
        self.co_rows_asked = min(max(co_rows, 0), MAX_CO_CONTRIBUTORS)
        self._add_co_contributor_fields()
        drop_browser_maxlength(self)

    def clean_orcid(self) -> str:
        raw = self.cleaned_data["orcid"]
        return normalise_orcid(raw) if raw.strip() else ""

    def clean(self):
        cleaned = super().clean()
        # Crediting the organisation only needs an organisation (it is otherwise optional).
        if (
            cleaned.get("credit_preference") == Submission.Credit.ORGANISATION_ONLY
            and not cleaned.get("organisation")
            and "organisation" not in self.errors
        ):
            self.add_error("organisation", organisation_for_credit())
        self._clean_co_contributors(cleaned)
        return cleaned

    def _add_co_contributor_fields(self) -> None:
        """Name, organisation and ORCID iD of each co-contributor, before the credit choice."""
        people = self.instance.co_contributors if self.instance else []
        fields = {}
        for number in range(1, MAX_CO_CONTRIBUTORS + 1):
            person = people[number - 1] if number <= len(people) else {}
            for key, label, limit in CO_CONTRIBUTOR_PARTS:
                field = forms.CharField(label=label, required=False, max_length=limit)
                field.error_messages["max_length"] = (
                    f"The {label.replace(' (optional)', '').lower()} of co-contributor {number} "
                    f"must be {limit} characters or fewer"
                )
                field.initial = person.get(key, "")
                # Read by screen readers after the visible label (templates/bootstrap5/field.html).
                field.hidden_label_suffix = f" of co-contributor {number}"  # type: ignore[attr-defined]  # read by the template
                fields[f"co_{number}_{key}"] = field
            fields[f"co_{number}_name"].widget.attrs.update(autocomplete="off")
        names = list(self.fields)
        at = names.index("credit_preference")
        self.fields = {
            **{name: self.fields[name] for name in names[:at]},
            **fields,
            **{name: self.fields[name] for name in names[at:]},
        }

    def co_contributor_fieldsets(self) -> list[tuple[int, list[forms.BoundField]]]:
        return [
            (n, [self[f"co_{n}_{key}"] for key, _label, _limit in CO_CONTRIBUTOR_PARTS])
            for n in range(1, MAX_CO_CONTRIBUTORS + 1)
        ]

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith("co_")]

    def co_contributor_rows(self) -> int:
        """How many co-contributor rows are shown, one at a time: those filled in (or with an
        error), those asked for with "Add another", and always the first."""
        shown = self.co_rows_asked
        for number in range(1, MAX_CO_CONTRIBUTORS + 1):
            names = [f"co_{number}_{key}" for key, *_ in CO_CONTRIBUTOR_PARTS]
            if self.is_bound:
                used = any(self.data.get(self.add_prefix(n), "").strip() for n in names)
                used = used or any(n in self.errors for n in names)
            else:
                used = number <= len(self.instance.co_contributors)
            if used:
                shown = max(shown, number)
        return max(shown, 1)

    def shows_co_contributors(self) -> bool:
        """Open the co-contributors section when it holds anything or has an error."""
        names = [name for name in self.fields if name.startswith("co_")]
        if any(name in self.errors for name in names):
            return True
        if self.co_rows_asked:
            return True
        if self.is_bound:
            return any(self.data.get(self.add_prefix(name), "").strip() for name in names)
        return bool(self.instance.co_contributors)

    def _clean_co_contributors(self, cleaned: dict) -> None:
        people = []
        for number in range(1, MAX_CO_CONTRIBUTORS + 1):
            person = {
                key: cleaned.get(f"co_{number}_{key}", "").strip()
                for key, *_ in CO_CONTRIBUTOR_PARTS
            }
            if not any(person.values()):
                continue
            if not person["name"]:
                self.add_error(
                    f"co_{number}_name",
                    ValidationError(
                        f"Enter the full name of co-contributor {number}, or clear their details",
                        code="co_contributor_name",
                    ),
                )
            if person["orcid"]:
                try:
                    person["orcid"] = normalise_orcid(person["orcid"])
                except ValidationError as error:
                    message = (
                        error.messages[0]
                        .replace("your ORCID iD", f"the ORCID iD of co-contributor {number}")
                        .replace("your ORCID record", "their ORCID record")
                    )
                    self.add_error(f"co_{number}_orcid", ValidationError(message, code=error.code))
            people.append(person)
        self.cleaned_co_contributors = people

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # the stubs omit this private ModelForm hook
        # The instance holds what was typed, valid or not, for the credit line preview.
        if hasattr(self, "cleaned_co_contributors"):
            self.instance.co_contributors = self.cleaned_co_contributors

    def credit_details(self) -> dict:
        """What Submission.correct_credit() writes, as validated (CREDIT_FIELDS)."""
        details = {name: self.cleaned_data[name] for name in CREDIT_FIELDS if name in self.fields}
        return {**details, "co_contributors": self.cleaned_co_contributors}


class AboutYouForm(ForLaterMixin, CreditDetailsForm):
    website = forms.CharField(
        label="Website or social media profile (optional)",
        required=False,
        max_length=500,
        help_text="The full web address of the page, for example "
        "https://www.example.ac.uk/people/jane-smith or https://bsky.app/profile/jane.bsky.social. "
        "A Mastodon handle like @jane@mastodon.social works too.",
    )

    class Meta(CreditDetailsForm.Meta):
        fields = [
            "name",
            "email",
            "role",
            "organisation",
            "orcid",
            "website",
            "credit_preference",
        ]
        labels = {
            **CreditDetailsForm.Meta.labels,
            "email": "Email address",
            "role": "Role or job title",
            "organisation": "Organisation (optional)",
        }
        help_texts = {
            "email": "We will send your receipt here. It is never published.",
            "organisation": "Leave this blank if you are an independent researcher.",
        }
        error_messages = {
            **CreditDetailsForm.Meta.error_messages,
            "email": {
                "required": "Enter your email address",
                "invalid": "Enter an email address in the correct format, like name@example.org",
            },
            "role": {"required": "Enter your role or job title"},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("email", "role"):
            self.fields[name].required = True
        self.fields["email"].widget.attrs.update(autocomplete="email", spellcheck="false")
        self.fields["name"].widget.attrs.update(autocomplete="name")
        self.fields["organisation"].widget.attrs.update(autocomplete="organization")
        self.fields["role"].widget.attrs.update(autocomplete="organization-title")
        for name, field in self.fields.items():
            # A co-contributor's fields have messages of their own (numbered).
            if isinstance(field, forms.CharField) and field.max_length and name[:3] != "co_":
                field.error_messages["max_length"] = (
                    f"{str(field.label).replace(' (optional)', '')} must be "
                    f"{field.max_length} characters or fewer"
                )
        drop_browser_maxlength(self)

    def clean_organisation(self) -> str:
        return self.cleaned_data["organisation"].strip()

    def columns(self) -> dict:
        """This step's columns as validated, for Submission.update_draft()."""
        columns = {name: getattr(self.instance, name) for name in self._meta.fields or ()}
        return {**columns, "co_contributors": self.instance.co_contributors}

    def columns_for_later(self, saved: Submission) -> dict:
        """What Save and come back later may write over `saved` (the draft as it was stored).

        Each valid value; the co-contributors (one column) only when all of theirs are valid.
        Crediting the organisation only needs an organisation in what is saved too: if the two
        would disagree, neither is saved and the organisation's box says why.
        """
        own = set(self._meta.fields or ())
        columns = {name: value for name, value in self.valid_values().items() if name in own}
        if not any(name.startswith("co_") and name in self.errors for name in self.fields):
            columns["co_contributors"] = self.cleaned_co_contributors
        credit = columns.get("credit_preference", saved.credit_preference)
        organisation = columns.get("organisation", saved.organisation)
        if credit == Submission.Credit.ORGANISATION_ONLY and not organisation:
            columns.pop("credit_preference", None)
            columns.pop("organisation", None)
            if "organisation" not in self.errors:
                self.add_error("organisation", organisation_for_credit())
        return columns

    def clean_website(self) -> str:
        value = self.cleaned_data["website"].strip()
        if not value:
            return ""
        if fediverse := FEDIVERSE_HANDLE.match(value):
            # @user@instance names one profile on one server: its address is known.
            value = f"https://{fediverse['server']}/@{fediverse['user']}"
        elif value.startswith("@"):
            raise ValidationError(
                "Enter the full web address of your profile, like https://x.com/janesmith: "
                "a handle on its own does not say which network it is on",
                code="handle_without_network",
            )
        try:
            return normalise_web_address(value)
        except ValueError:
            raise ValidationError(
                "Enter a web address in the correct format, like https://www.example.org",
                code="invalid_url",
            ) from None


class TextAnswerField(forms.CharField):
    """Line ends as one character, as the browser and the live character count count them.

    `error_label` names the answer in messages ("Answer 2 must ..."), not its whole question.
    """

    def __init__(self, *args, error_label: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.error_label = error_label

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n")


def answer_field_name(question: Question) -> str:
    return f"answer_{question.pk}"


class EvidenceForm(ForLaterMixin, CleanTextMixin, forms.Form):
    links = forms.CharField(
        label="Links to examples or resources (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=f"One web address per line, up to {MAX_LINKS}. "
        "For example, www.example.org/report",
    )

    def __init__(self, *args, questions: list[Question], **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        answer_fields = {}
        for question in questions:
            answer_fields[answer_field_name(question)] = TextAnswerField(
                # Numbered as on the start page, so that "Answer 2 must be..." points here.
                label=f"{question.position}. {question.text}",
                error_label=f"Answer {question.position}",
                required=False,
                max_length=question.max_length,
                # The live count (static/charcount.js) reads the limit from here.
                widget=forms.Textarea(attrs={"rows": 6, "data-maxlength": question.max_length}),
                help_text=f"{question.help_text} You can enter up to "
                f"{question.max_length:,} characters.".strip(),
                error_messages={
                    "max_length": f"Answer {question.position} must be "
                    f"{question.max_length:,} characters or fewer"
                },
            )
        # Answers first, in the call's order; links last.
        self.fields = {**answer_fields, "links": self.fields["links"]}
        drop_browser_maxlength(self)

    def clean_links(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["links"].splitlines()]
        links = [line for line in lines if line]
        if len(links) > MAX_LINKS:
            raise ValidationError(f"Enter {MAX_LINKS} links or fewer", code="too_many_links")
        cleaned, bad = [], []
        for link in links:
            try:
                cleaned.append(normalise_web_address(link))
            except ValueError:
                bad.append(quoted(link))
        if bad:
            raise ValidationError(
                "Enter each link as a web address, like www.example.org/report "
                f"(check {', '.join(bad)})",
                code="invalid_links",
            )
        return cleaned

    def clean(self):
        cleaned = super().clean()
        names = [answer_field_name(q) for q in self.questions]
        answered = any(cleaned.get(name, "").strip() for name in names)
        already_invalid = any(name in self.errors for name in names)
        if names and not answered and not already_invalid and not self.for_later:
            self.add_error(
                names[0],
                ValidationError("Answer at least one question", code="no_answers"),
            )
        return cleaned

    def answers(self) -> dict[str, str]:
        return {
            str(q.pk): self.cleaned_data[answer_field_name(q)].strip()
            for q in self.questions
            if self.cleaned_data[answer_field_name(q)].strip()
        }

    def columns_for_later(self, saved: Submission) -> dict:
        """What Save and come back later may write over `saved`: each valid answer (an invalid
        one keeps what was saved before), and the links if they are valid. Answers emptied
        altogether keep the saved ones: the step stays as finished as it was."""
        answers = dict(saved.answers)
        for question in self.questions:
            name, key = answer_field_name(question), str(question.pk)
            if name in self.errors:
                continue
            value = self.cleaned_data.get(name, "").strip()
            if value:
                answers[key] = value
            else:
                answers.pop(key, None)
        columns: dict = {"answers": answers} if answers or not saved.answers else {}
        if "links" not in self.errors:
            columns["links"] = self.cleaned_data["links"]
        return columns

    @classmethod
    def initial_for(cls, submission: Submission, questions: list[Question]) -> dict[str, str]:
        initial = {answer_field_name(q): submission.answers.get(str(q.pk), "") for q in questions}
        initial["links"] = "\n".join(submission.links)
        return initial


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A list of uploads; each is checked by `check_upload`, not by FileField's own rules."""

    widget = MultipleFileInput

    def to_python(self, data):
        return [upload for upload in (data or []) if upload]

    def validate(self, value) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")

    def bound_data(self, data, initial):
        return data

    def clean(self, data, initial=None):
        value = self.to_python(data)
        self.validate(value)
        return value


class FilesForm(forms.Form):
    """Files added to a draft; every file is checked, and all are added or none."""

    # A declared field, which the form's metaclass moves into base_fields: self.files is still
    # the uploaded data that BaseForm says it is.
    files = MultipleFileField(label="Choose files", required=False)  # type: ignore[assignment]

    def __init__(self, *args, call: Call, existing: list, for_later: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.call = call
        self.existing = existing
        # Saving for later adds the files that pass and refuses the others at the field.
        self.for_later = for_later
        self.refused: list[ValidationError] = []
        self.fields["files"].help_text = (
            f"Up to {call.max_files} files, each up to {human_size(call.max_file_size)}: "
            f"{ALLOWED_LIST}. You can choose several at once, and add more later."
        )

    def too_many_files(self, added: int) -> ValidationError:
        """The one wording of "too many files", given how many the draft already holds."""
        room = self.call.max_files - added
        if room <= 0:
            message = (
                f"You have already added {self.call.max_files} files, the most you can "
                "add; remove one to add another"
            )
        else:
            message = (
                f"You can add up to {self.call.max_files} files; you have added "
                f"{added}, so choose {room} or fewer"
            )
        return ValidationError(message, code="too_many_files")

    def clean_files(self) -> list[CheckedFile]:
        uploads = self.cleaned_data["files"]
        if len(uploads) > self.call.max_files - len(self.existing):
            raise self.too_many_files(len(self.existing))
        errors: list[ValidationError] = []
        checked: list[CheckedFile] = []
        for upload in uploads:
            try:
                checked.append(check_upload(upload, self.call.max_file_size))
            except ValidationError as error:
                errors.append(error)
        seen = {a.sha256: a.original_name for a in self.existing}
        for item in checked:
            if item.sha256 in seen:
                errors.append(
                    ValidationError(
                        f"“{display_name(item.name)}” is the same file as "
                        f"“{display_name(seen[item.sha256])}”, which you have already added",
                        code="duplicate",
                    )
                )
            seen[item.sha256] = item.name
        if errors and self.for_later:
            self.refused = errors
            return checked
        if errors:
            if len(uploads) > 1:
                errors.append(
                    ValidationError(
                        "No files were added; choose the files again without the ones above",
                        code="none_added",
                    )
                )
            raise ValidationError(errors)
        return checked

    def add_to(self, submission: Submission) -> bool:
        """Add the checked files to the draft, all or none; False with the reason on the form.

        Saving for later, the files that passed are added and the others refused at the field
        (True, with errors on the form). The form's own checks ran against the files it was
        shown; another tab may have added some since, which the database's count and unique
        constraint catch. Raises NotADraft once the submission has been sent.
        """
        if self.refused:
            # Shown at the field once the others are added (add_error drops the cleaned files).
            refused, self.refused = self.refused, []
            added = self.add_to(submission)
            self.add_error("files", ValidationError(refused))
            return added
        if not self.cleaned_data["files"]:
            return True
        try:
            submission.add_files(self.cleaned_data["files"])
        except AttachmentLimitReached:
            self.add_error("files", self.too_many_files(submission.attachments.count()))
            return False
        except IntegrityError:
            # Another tab added the same file a moment ago; the unique constraint caught it.
            error = ValidationError("You have already added one of these files", code="duplicate")
            self.add_error("files", error)
            return False
        return True


class ResumeRequestForm(CleanTextMixin, forms.Form):
    """Where to send the link to come back to a draft."""

    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="We will send a link that opens your saved answers in any browser.",
        error_messages={
            "required": "Enter the email address to send the link to",
            "invalid": "Enter an email address in the correct format, like name@example.org",
        },
    )

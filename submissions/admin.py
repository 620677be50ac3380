"""Django admin: where staff find, read, tag and decide on submissions, and manage calls."""

import contextlib
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, TypedDict, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.views.main import SEARCH_VAR, IncorrectLookupParameters
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.functional import cached_property

from .admin_credits import AcknowledgementsAdminMixin
from .admin_email import OutgoingEmailAdmin  # noqa: F401 - registers the outgoing emails
from .admin_export import ExportAdminMixin
from .models import Attachment, Call, Question, Submission, Theme
from .review import (
    REVIEW_FIELDS,
    assign_reviewer,
    person,
    record_review_changes,
    review_snapshot,
)
from .review import set_review_status as apply_review_status
from .search import search_submissions

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

LONDON = ZoneInfo("Europe/London")
# The review fields kept in the submission's own row; themes are a many-to-many of their own.
REVIEW_COLUMNS = [name for name in REVIEW_FIELDS if name != "themes"]


class FileCount(TypedDict):
    file_count: int | None  # SubmissionAdmin.get_queryset(): None for no files


class SubmissionCount(TypedDict):
    submission_count: int  # ThemeAdmin.get_queryset()


def uk_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value, LONDON), "j M Y, H:i")


def safe_url(url: str) -> str | None:
    """The URL if a browser may follow it from the admin; None for javascript: and the like."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def staff_users() -> QuerySet:
    return get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")


# --- Filters -------------------------------------------------------------------------------


class StateFilter(admin.SimpleListFilter):
    """Submitted only, unless a reviewer asks for drafts: drafts are unfinished and unchecked."""

    title = "state"
    parameter_name = "state"
    default = Submission.State.SUBMITTED

    def lookups(self, request, model_admin):
        return [("submitted", "Submitted"), ("draft", "Drafts"), ("all", "All")]

    def choices(self, changelist):
        value = self.value() or self.default
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: lookup} if lookup != self.default else {},
                    [] if lookup != self.default else [self.parameter_name],
                ),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or self.default
        if value == "all":
            return queryset
        return queryset.filter(state=value)


class HasFilesFilter(admin.SimpleListFilter):
    title = "has files"
    parameter_name = "has_files"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        has_files = Exists(Attachment.objects.filter(submission=OuterRef("pk")))
        if self.value() == "yes":
            return queryset.filter(has_files)
        if self.value() == "no":
            return queryset.filter(~has_files)
        return queryset


class ThemeFilter(admin.SimpleListFilter):
    """By theme, as EXISTS: the stock filter joins and adds DISTINCT over every column."""

    title = "theme"
    parameter_name = "theme"

    def lookups(self, request, model_admin):
        return [("none", "No theme"), *((str(t.pk), t.name) for t in Theme.objects.all())]

    def queryset(self, request, queryset):
        value = self.value()
        tagged = Submission.themes.through.objects.filter(submission=OuterRef("pk"))
        if value == "none":
            return queryset.filter(~Exists(tagged))
        if value and value.isdigit():
            return queryset.filter(Exists(tagged.filter(theme_id=int(value))))
        return queryset


class AssignedReviewerFilter(admin.SimpleListFilter):
    title = "assigned reviewer"
    parameter_name = "reviewer"

    def lookups(self, request, model_admin):
        return [
            ("me", "Me"),
            ("nobody", "Nobody"),
            *((str(user.pk), person(user)) for user in staff_users()),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(assigned_reviewer=request.user)
        if value == "nobody":
            return queryset.filter(assigned_reviewer__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assigned_reviewer_id=int(value))
        return queryset


class SubmittedBetweenFilter(admin.ListFilter):
    """Submitted from one day to another (both included), in UK days, typed as dates."""

    title = "submitted between"
    template = "admin/submissions/submission/date_range_filter.html"
    params = ("submitted_from", "submitted_to")

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.raw = {}
        self.dates: dict[str, date] = {}
        for name in self.params:
            if name in params:
                value = params.pop(name)[-1].strip()
                self.raw[name] = value
                # A bad date is shown as an error in the filter box, not a server error.
                with contextlib.suppress(ValueError):
                    self.dates[name] = date.fromisoformat(value)
                self.used_parameters[name] = value

    def has_output(self):
        return True

    def expected_parameters(self):
        return list(self.params)

    @property
    def invalid(self) -> list[str]:
        return [name for name, value in self.raw.items() if value and name not in self.dates]

    def queryset(self, request, queryset):
        if "submitted_from" in self.dates:
            start = datetime.combine(self.dates["submitted_from"], time(), LONDON)
            queryset = queryset.filter(submitted_at__gte=start)
        if "submitted_to" in self.dates:
            end = datetime.combine(self.dates["submitted_to"] + timedelta(days=1), time(), LONDON)
            queryset = queryset.filter(submitted_at__lt=end)
        return queryset

    def choices(self, changelist):
        # One "choice": the little form, carrying every other active parameter along.
        keep = {k: v for k, v in changelist.params.items() if k not in self.params and k != "p"}
        yield {
            "from": self.raw.get("submitted_from", ""),
            "to": self.raw.get("submitted_to", ""),
            "invalid": self.invalid,
            "hidden": [(key, value) for key, values in keep.items() for value in _as_list(values)],
            "reset_query_string": changelist.get_query_string(remove=[*self.params, "p"]),
            "selected": bool(self.dates),
        }


class WithdrawalRequestedFilter(admin.SimpleListFilter):
    """Submissions whose contributor asked, on their status page, for them to be withdrawn."""

    title = "withdrawal requested"
    parameter_name = "withdrawal"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(withdrawal_requested_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(withdrawal_requested_at__isnull=True)
        return queryset


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


# --- Actions ---------------------------------------------------------------------------------


class StaffChoiceField(forms.ModelChoiceField):
    """A choice of staff, each named as the review pages name them."""

    def label_from_instance(self, obj) -> str:
        return person(obj)


class ReviewActionForm(helpers.ActionForm):
    reviewer = StaffChoiceField(
        queryset=staff_users(), required=False, label="Reviewer:", empty_label="(choose)"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(StaffChoiceField, self.fields["reviewer"]).queryset = staff_users()


def status_action(status: Submission.ReviewStatus):
    @admin.action(description=f"Set review status to “{status.label}”", permissions=["change"])
    def action(modeladmin, request, queryset):
        changed = apply_review_status(queryset, status, by=request.user)
        modeladmin.message_user(request, f"{changed} moved to “{status.label}”.", messages.SUCCESS)

    action.__name__ = f"set_status_{status.value}"
    return action


@admin.action(description="Assign to me", permissions=["change"])
def assign_to_me(modeladmin, request, queryset):
    changed = assign_reviewer(queryset, request.user, by=request.user)
    modeladmin.message_user(request, f"{changed} assigned to you.", messages.SUCCESS)


@admin.action(description="Assign to the reviewer chosen", permissions=["change"])
def assign_to_chosen(modeladmin, request, queryset):
    form = ReviewActionForm(request.POST)
    cast(forms.ChoiceField, form.fields["action"]).choices = modeladmin.get_action_choices(request)
    if not form.is_valid() or form.cleaned_data["reviewer"] is None:
        modeladmin.message_user(
            request, "Choose a reviewer beside the action, then press Go.", messages.ERROR
        )
        return
    reviewer = form.cleaned_data["reviewer"]
    changed = assign_reviewer(queryset, reviewer, by=request.user)
    modeladmin.message_user(request, f"{changed} assigned to {person(reviewer)}.", messages.SUCCESS)


@admin.action(description="Remove the assigned reviewer", permissions=["change"])
def unassign(modeladmin, request, queryset):
    changed = assign_reviewer(queryset, None, by=request.user)
    modeladmin.message_user(request, f"{changed} no longer assigned.", messages.SUCCESS)


REVIEW_ACTIONS = [
    *(status_action(status) for status in Submission.ReviewStatus),
    assign_to_me,
    assign_to_chosen,
    unassign,
]


# --- Submissions -----------------------------------------------------------------------------


@admin.register(Submission)
class SubmissionAdmin(ExportAdminMixin, admin.ModelAdmin):
    list_display = [
        "reference_or_draft",
        "name",
        "organisation",
        "call",
        "submitted",
        "is_late",
        "review_status",
        "files",
        "reviewer",
    ]
    list_display_links = ["reference_or_draft"]
    list_select_related = ["call", "assigned_reviewer"]
    list_filter = [
        StateFilter,
        "call",
        "review_status",
        "is_late",
        "credit_preference",
        HasFilesFilter,
        ThemeFilter,
        AssignedReviewerFilter,
        SubmittedBetweenFilter,
        WithdrawalRequestedFilter,
    ]
    list_per_page = 50
    date_hierarchy = "submitted_at"
    ordering = ["-submitted_at", "-id"]
    search_fields = ["reference", "name", "email", "organisation", "answers"]
    search_help_text = "Reference, name, email, organisation, or words from the answers."
    # Each of these costs a COUNT over the whole table on every page view.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    # ExportAdminMixin adds the export action, and change_list.html its "Export all matching".
    actions = [*REVIEW_ACTIONS]
    action_form = ReviewActionForm

    # Contributors' words are shown by the change form template, never as form fields.
    fieldsets = [
        ("Review", {"fields": REVIEW_FIELDS}),
        ("Contributor's requests", {"fields": ["withdrawal_request"]}),
    ]
    save_on_top = True

    class Media:
        css = {"all": ["review/admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Submission]:
        file_count = (
            Attachment.objects.filter(submission=OuterRef("pk"))
            .order_by()
            .values("submission")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(file_count=Subquery(file_count, output_field=IntegerField()))
        )

    def changelist_view(self, request, extra_context=None):
        if not request.GET.get(SEARCH_VAR) or connection.vendor != "postgresql":
            return super().changelist_view(request, extra_context)
        # PostgreSQL's planner does not count the cost of reading each row's stored (TOASTed)
        # search vector, so for a common word it reads the whole table instead of the GIN
        # index: 1.4 s against 0.17 s for a count over 100,000 submissions. So, in a search,
        # prefer indexes, until the page (counts, date hierarchy and all) is rendered.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
            response = super().changelist_view(request, extra_context)
            if hasattr(response, "render"):
                response.render()
        return response

    @cached_property
    def allowed_lookups(self) -> frozenset[str]:
        """The query-string parameters the list's filters and date links use, and no others."""
        allowed = {f"{self.date_hierarchy}__{part}" for part in ("year", "month", "day")}
        for list_filter in self.list_filter:
            if isinstance(list_filter, str):
                # The stock filters of a field: `field__exact` (`field__id__exact` for a
                # foreign key) and `field__isnull`.
                field = get_fields_from_path(self.model, list_filter)[-1]
                target = f"__{field.target_field.name}" if field.is_relation else ""
                allowed |= {f"{list_filter}{target}__exact", f"{list_filter}__isnull"}
            elif issubclass(list_filter, admin.SimpleListFilter):
                allowed.add(list_filter.parameter_name)
            else:
                allowed.update(list_filter.params)
        return frozenset(allowed)

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # Django allows any lookup on the model's own columns (?token__startswith=, or
        # ?name__regex=); a reviewer could then probe what the list never shows.
        return lookup in self.allowed_lookups

    def get_changelist_instance(self, request):
        # As the admin treats a filter on no field: the list drops the filters ("?e=1"), the
        # export says so and exports nothing. A NUL would reach PostgreSQL only when the query
        # runs, as a server error in the page or in the middle of an export.
        for _key, values in request.GET.lists():
            if any("\x00" in value for value in values):
                raise IncorrectLookupParameters("A filter or search holds a null character")
        try:
            return super().get_changelist_instance(request)
        except DisallowedModelAdminLookup as error:
            raise IncorrectLookupParameters(error) from error

    def get_search_results(self, request, queryset, search_term):
        return search_submissions(queryset, search_term), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # submissions come from contributors, through the journey

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        readonly = ["withdrawal_request"]
        # Publishing is the call managers' decision (they may change calls), not a reviewer's.
        if not request.user.has_perm("submissions.change_call"):
            readonly.append("withheld_from_open_data")
        return readonly

    @admin.display(description="Withdrawal requested")
    def withdrawal_request(self, obj: Submission) -> str:
        if obj.withdrawal_requested_at is None:
            return "No"
        return (
            f"Yes, on {uk_time(obj.withdrawal_requested_at)} (UK time). It is no longer "
            "credited or published; a call manager erases it with “Delete”."
        )

    @admin.display(description="Reference", ordering="reference")
    def reference_or_draft(self, obj: Submission) -> str:
        return obj.reference or f"(draft {obj.pk})"

    @admin.display(description="Submitted (UK time)", ordering="submitted_at")
    def submitted(self, obj: Submission) -> str:
        return uk_time(obj.submitted_at)

    @admin.display(description="Files")
    def files(self, obj: "WithAnnotations[Submission, FileCount]") -> int:
        return obj.file_count or 0

    @admin.display(description="Assigned reviewer", ordering="assigned_reviewer__username")
    def reviewer(self, obj: Submission) -> str:
        return person(obj.assigned_reviewer)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assigned_reviewer":
            kwargs["queryset"] = staff_users()
            kwargs["form_class"] = StaffChoiceField
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "themes":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self.reading_context(obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def reading_context(self, submission: Submission) -> dict:
        """The evidence as a reader wants it; the template escapes every word of it."""
        questions = list(submission.call.questions.all())
        known = {str(question.pk) for question in questions}
        return {
            "submission": submission,
            "answers": submission.answered_questions(questions),
            # Answers to questions since removed from the call are still evidence.
            "orphan_answers": [
                answer for key, answer in submission.answers.items() if key not in known and answer
            ],
            "links": [(link, safe_url(link)) for link in submission.links],
            "website_url": safe_url(submission.website),
            "attachments": list(submission.attachments.all()),
            "consent_matches_call": (
                submission.consent_wording_sha256 == submission.call.consent_hash
            ),
            "review_changes": list(submission.review_changes.all()),
        }

    def save_model(self, request, obj, form, change):
        # The "before" picture comes from the database: the form has already changed `obj`.
        # Kept on the form, not on self: one ModelAdmin serves every request.
        saved = Submission.objects.select_related("assigned_reviewer").get(pk=obj.pk)
        form.review_before = review_snapshot(saved)
        # Only the review columns: `obj` was loaded before the form was posted, and writing
        # the rest would put back a state or answers that changed meanwhile (a submit).
        obj.save(update_fields=REVIEW_COLUMNS)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        submission = form.instance
        after = review_snapshot(submission, themes=form.cleaned_data["themes"])
        record_review_changes(submission, form.review_before, after, by=request.user)


# --- Calls and themes ------------------------------------------------------------------------


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    fields = ["position", "short_title", "text", "help_text", "max_length"]


@admin.register(Call)
class CallAdmin(AcknowledgementsAdminMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "opens_at",
        "closes_at",
        "late_policy",
        "published",
        "acknowledgements_link",
    ]
    list_filter = ["published", "late_policy"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [QuestionInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "published", "summary", "asks"]}),
        ("Dates", {"fields": ["opens_at", "closes_at", "late_policy", "draft_retention_days"]}),
        (
            "Licence and consent",
            {
                "fields": [
                    "licence_id",
                    "licence_name",
                    "licence_version",
                    "licence_url",
                    "licence_summary",
                    "consent_wording",
                    "consent_version",
                    "credit_promise",
                    "next_steps",
                    "privacy_notice",
                ]
            },
        ),
        ("Contact", {"fields": ["contact_email", "notification_emails", "notification_mode"]}),
        ("Files", {"fields": ["max_files", "max_file_size"]}),
        ("Credits and open data", {"fields": ["credits_hidden", "credits_frozen"]}),
    ]


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "submission_count"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(submission_count=Count("submissions"))

    @admin.display(description="Submissions", ordering="submission_count")
    def submission_count(self, obj: "WithAnnotations[Theme, SubmissionCount]") -> int:
        return obj.submission_count

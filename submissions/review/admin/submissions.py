"""Submissions in the admin: where staff find, read, tag and decide on them."""

from collections.abc import Callable
from typing import TYPE_CHECKING, TypedDict, cast
from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.views.main import ORDER_VAR, SEARCH_VAR
from django.db import connection, transaction
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from ...common.wording import uk_time_short
from ...models import Attachment, Submission
from ...publishing.releases import take_down
from ..access import calls_for, visible_submissions
from ..history import (
    REVIEW_FIELDS,
    assign_reviewer,
    person,
    record_review_changes,
    review_snapshot,
)
from ..history import set_review_status as apply_review_status
from ..search import search_submissions
from .counts import review_paginator
from .export import ExportAdminMixin
from .filters import (
    AssignedReviewerFilter,
    CallFilter,
    HasFilesFilter,
    StateFilter,
    SubmittedBetweenFilter,
    ThemeFilter,
    WithdrawalRequestedFilter,
    staff_users,
)
from .queue import ReviewQueueMixin
from .releases import RedactionsAdminMixin, publication_context
from .staff_forms import StaffModelForm

if TYPE_CHECKING:
    from django.contrib.admin import ListFilter
    from django.db.models.fields.related import RelatedField
    from django_stubs_ext import WithAnnotations

# The review fields kept in the submission's own row; themes are a many-to-many of their own.
REVIEW_COLUMNS = [name for name in REVIEW_FIELDS if name != "themes"]
# What a reviewer decides on every submission; the rest of REVIEW_FIELDS is below the buttons.
DECISION_FIELDS = ("review_status", "themes", "reviewer_notes")


class FileCount(TypedDict):
    file_count: int | None  # SubmissionAdmin.get_queryset(): None for no files


def safe_url(url: str) -> str | None:
    """The URL if a browser may follow it from the admin; None for javascript: and the like."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def shortened(text: str, length: int) -> str:
    """Text cut to fit a narrow column; the whole of it in a tooltip."""
    short = Truncator(text).chars(length)
    if short == text:
        return text
    return format_html('<span title="{}">{}</span>', text, short)


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
class SubmissionAdmin(RedactionsAdminMixin, ReviewQueueMixin, ExportAdminMixin, admin.ModelAdmin):
    # What a reviewer decides with, narrow enough for 1280 px (tests/test_admin_browser.py).
    list_display = [
        "reference_or_draft",
        "contributor",
        "organisation_short",
        "call_short",
        "submitted",
        "late",
        "review_status_label",
        "theme_names",
        "files",
        "reviewer",
    ]
    list_display_links = ["reference_or_draft"]
    list_select_related = ["call", "assigned_reviewer"]
    list_filter = [
        StateFilter,
        CallFilter,
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
    # Oldest first: a reviewer works through submissions in the order they came, late ones last.
    ordering = ["submitted_at", "id"]
    search_fields = ["reference", "name", "email", "organisation", "answers"]
    search_help_text = "Reference, name, email, organisation, or words from the answers."
    # Each of these costs a COUNT over the whole table on every page view.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    form = StaffModelForm
    # ExportAdminMixin adds the export action, and change_list.html its "Export all matching".
    actions = [*REVIEW_ACTIONS]
    action_form = ReviewActionForm

    # Contributors' words are shown by the change form template, never as form fields. The
    # decision comes first, with its buttons under it (change_form.html): at 1280 x 800 all of
    # it is in view beside the evidence (tests/review/test_admin_decisions_browser.py).
    fieldsets = [
        ("Decision", {"fields": DECISION_FIELDS}),
        (
            "Assignment and publication",
            {"fields": ["assigned_reviewer", "withheld_from_open_data"]},
        ),
    ]
    # One click for a status, where a drop-down takes two.
    radio_fields = {"review_status": admin.VERTICAL}

    class Media:
        # (review/admin.css comes with every admin page: templates/admin/base_site.html.)
        # After Django's own popup code, which it extends to the themes' checkboxes.
        js = ["admin/js/admin/RelatedObjectLookups.js", "review/related_checkboxes.js"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Submission]:
        file_count = (
            Attachment.objects.filter(submission=OuterRef("pk"))
            .order_by()
            .values("submission")
            .annotate(n=Count("pk"))
            .values("n")
        )
        queryset = (
            super()
            .get_queryset(request)
            .annotate(file_count=Subquery(file_count, output_field=IntegerField()))
            .prefetch_related("themes")
        )
        # Calls are kept apart and reviewers see no drafts: another call's submission, or a
        # draft, is not found on any admin URL (a reviewer's ?state=draft lists nothing).
        return visible_submissions(request, queryset)

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        # Counted exactly where it is cheap, "more than 10,000" beyond (counts.py).
        return review_paginator(
            request,
            queryset,
            per_page,
            orphans=orphans,
            allow_empty_first_page=allow_empty_first_page,
        )

    def get_list_display(
        self, request: HttpRequest
    ) -> list[str | Callable[[Submission], str | bool]]:
        columns = list(super().get_list_display(request))
        if len(calls_for(request)) < 2:
            columns.remove("call_short")  # one call: the column would say the same on each row
        return columns

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects to the index with "doesn't exist"; a 404 tells a reviewer the same
        # for another call's submission as for an id that was never used.
        raise Http404("No such submission")

    def changelist_view(self, request, extra_context=None):
        # Said above the list: the queue that "Save and review next" walks has this order.
        unsorted = request.GET.copy()
        sorted_by_hand = unsorted.pop(ORDER_VAR, None) is not None
        extra_context = {
            **(extra_context or {}),
            "list_order_chosen": sorted_by_hand,
            "default_order_query": unsorted.urlencode(),
        }
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
        # This list's filters are field names and filter classes (no (field, class) pairs).
        for list_filter in cast("list[str | type[ListFilter]]", self.list_filter):
            if isinstance(list_filter, str):
                # The stock filters of a field: `field__exact` (`field__id__exact` for a
                # foreign key) and `field__isnull`.
                field = get_fields_from_path(self.model, list_filter)[-1]
                # A relation (is_relation) has a target_field.
                related = cast("RelatedField", field)
                target = f"__{related.target_field.name}" if field.is_relation else ""
                allowed |= {f"{list_filter}{target}__exact", f"{list_filter}__isnull"}
            elif issubclass(list_filter, admin.SimpleListFilter):
                # A SimpleListFilter must set parameter_name (Django refuses one without).
                allowed.add(cast(str, list_filter.parameter_name))
            else:
                # The other filters (SubmittedBetweenFilter) name their parameters in `params`.
                allowed.update(list_filter.params)  # type: ignore[attr-defined]  # see above
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
        readonly = []
        # Publishing is the call managers' decision (they may change calls), not a reviewer's.
        if not request.user.has_perm("submissions.change_call"):
            readonly.append("withheld_from_open_data")
        return readonly

    @admin.display(description="Reference", ordering="reference")
    def reference_or_draft(self, obj: Submission) -> str:
        return obj.reference or f"(draft {obj.pk})"

    @admin.display(description="Name", ordering="name")
    def contributor(self, obj: Submission) -> str:
        return shortened(obj.name, 28)

    @admin.display(description="Organisation", ordering="organisation")
    def organisation_short(self, obj: Submission) -> str:
        return shortened(obj.organisation, 28)

    @admin.display(description="Call", ordering="call__title")
    def call_short(self, obj: Submission) -> str:
        return shortened(obj.call.title, 20)

    @admin.display(description="Submitted (UK time)", ordering="submitted_at")
    def submitted(self, obj: Submission) -> str:
        return uk_time_short(obj.submitted_at)

    @admin.display(description="Late", ordering="is_late")
    def late(self, obj: Submission) -> str:
        return mark_safe('<span class="late-label">Late</span>') if obj.is_late else ""

    @admin.display(description="Review status", ordering="review_status")
    def review_status_label(self, obj: Submission) -> str:
        if obj.withdrawal_requested_at is None:
            return obj.get_review_status_display()
        return format_html(
            '{}<br><span class="withdrawal-label">Withdrawal requested</span>',
            obj.get_review_status_display(),
        )

    @admin.display(description="Themes")
    def theme_names(self, obj: Submission) -> str:
        return ", ".join(theme.name for theme in obj.themes.all())

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

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "reviewer_notes" and field is not None:
            field.widget.attrs["rows"] = 3  # the panel stays in view; the box grows by hand
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "themes":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self.reading_context(obj))
            # "Submission 7XK2M9PA", not "Change submission" over a second heading.
            context.update(title=f"Submission {obj}", subtitle=None)
            context["queue_place"] = self.queue_place(request, obj)
            context["can_erase"] = self.has_delete_permission(request, obj)
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
            **publication_context(submission),
        }

    def delete_model(self, request, obj) -> None:
        # Erasure: its files and history go, and its contributor is emailed, once, even when
        # "Delete" is pressed twice at once (Submission.erase() locks the row).
        obj.erase()

    def delete_queryset(self, request, queryset) -> None:
        for pk in queryset.values_list("pk", flat=True):
            Submission(pk=pk).erase()

    def save_model(self, request, obj, form, change):
        self.find_next_before_saving(request, obj, change)
        # The "before" picture comes from the database: the form has already changed `obj`.
        # Kept on the form, not on self: one ModelAdmin serves every request.
        saved = Submission.objects.select_related("assigned_reviewer").get(pk=obj.pk)
        form.review_before = review_snapshot(saved)
        # Only the review columns: `obj` was loaded before the form was posted, and writing
        # the rest would put back a state or answers that changed meanwhile (a submit).
        obj.save(update_fields=REVIEW_COLUMNS)
        if obj.withheld_from_open_data and not saved.withheld_from_open_data:
            # Withheld: off every public page and file at once, in this save's transaction.
            take_down(obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        submission = form.instance
        after = review_snapshot(submission, themes=form.cleaned_data["themes"])
        record_review_changes(submission, form.review_before, after, by=request.user)

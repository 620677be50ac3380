"""Calls in the admin: their questions, dates, licence and contact, the reviewers assigned to
them, and the themes reviewers tag submissions with. A call's maximum file size is entered in
MB and kept in bytes.
"""

from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst

from ...common.wording import uk_time
from ...journey.views import start_context
from ...models import Call, CallReviewer, Question, Submission, Theme
from ..access import of_reviewable_calls, sees_every_call
from ..history import person
from .credits import AcknowledgementsAdminMixin
from .filters import staff_users
from .outcome import OutcomeAdminMixin
from .releases import ReleasesAdminMixin
from .staff_forms import StaffModelForm, StaffTextMixin

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class SubmissionCount(TypedDict):
    submission_count: int  # ThemeAdmin.get_queryset()


MB = 1024 * 1024


class CallAdminForm(StaffTextMixin, forms.ModelForm):
    max_file_size_mb = forms.DecimalField(
        label="Maximum file size (MB)",
        min_value=Decimal("0.1"),
        max_digits=6,
        decimal_places=1,
        help_text="For each file, in megabytes (1 MB = 1,048,576 bytes).",
    )

    class Meta:
        model = Call
        # The admin's fieldsets choose the rest; max_file_size itself is set from the MB field.
        fields = ["max_files"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        size = self.instance.max_file_size or Call._meta.get_field("max_file_size").default
        self.fields["max_file_size_mb"].initial = (Decimal(size) / MB).quantize(Decimal("0.1"))
        for name in Call.REQUIRED_TO_PUBLISH:
            if name in self.fields:
                field = self.fields[name]
                field.help_text = f"{field.help_text} Needed to publish the call.".strip()

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # ModelForm.clean() returns cleaned_data
        if cleaned.get("published"):
            # At the field: what a published call must say (Call.REQUIRED_TO_PUBLISH).
            for name in Call.REQUIRED_TO_PUBLISH:
                if name in self.fields and not (cleaned.get(name) or "").strip():
                    label = self.fields[name].label or name
                    self.add_error(
                        name,
                        forms.ValidationError(
                            "Fill in the %(label)s before publishing the call, or untick "
                            "“Published” to save it as a draft.",
                            code="required_to_publish",
                            params={"label": str(label).lower()},
                        ),
                    )
        size_mb, max_files = cleaned.get("max_file_size_mb"), cleaned.get("max_files")
        if size_mb is not None and max_files:
            # Several files may come in one request; the server refuses larger requests unread.
            limit = settings.UPLOAD_MAX_REQUEST_SIZE / MB - 1
            if size_mb * max_files > limit:
                self.add_error(
                    "max_file_size_mb",
                    forms.ValidationError(
                        "%(files)s files of %(size)s MB would exceed the server's limit of "
                        "%(limit)s MB for one upload. Allow fewer or smaller files.",
                        code="upload_limit",
                        params={"files": max_files, "size": size_mb, "limit": int(limit)},
                    ),
                )
        return cleaned

    def save(self, commit=True):
        self.instance.max_file_size = int(self.cleaned_data["max_file_size_mb"] * MB)
        return super().save(commit)


class QuestionFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        # `instance` is the call as the form above was filled in, published or not.
        kept = [
            form
            for form in self.forms
            if (form.has_changed() or form.instance.pk)
            and not getattr(form, "cleaned_data", {}).get("DELETE")
        ]
        if self.instance.published and not kept:
            raise forms.ValidationError(
                "Add at least one question before publishing the call.",
                code="required_to_publish",
            )


class QuestionInline(admin.StackedInline):
    model = Question
    form = StaffModelForm
    formset = QuestionFormSet
    extra = 0
    fields = ["position", "short_title", "text", "help_text", "max_length"]


class CallReviewerInline(admin.TabularInline):
    """Call managers assign reviewers here; a reviewer sees only the calls they are given."""

    model = CallReviewer
    form = StaffModelForm
    extra = 0
    fields = ["reviewer", "assigned_at"]
    readonly_fields = ["assigned_at"]
    verbose_name = "reviewer"
    verbose_name_plural = "Reviewers (they see and export only this call's submissions)"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class NamedDeleteFormSet(formset):  # type: ignore[valid-type, misc]  # a class made at run time
            def add_fields(self, form, index):
                super().add_fields(form, index)
                if "DELETE" in form.fields:
                    # A table row has no <label> for its "Delete?" box: name it.
                    form.fields["DELETE"].widget.attrs["aria-label"] = "Remove this reviewer"

        return NamedDeleteFormSet

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "reviewer":
            kwargs["queryset"] = staff_users()
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            assert field is not None  # a ForeignKey's form field is a ModelChoiceField
            field.label_from_instance = person  # type: ignore[method-assign, assignment]  # Django's documented hook
            # A table row has no <label>: name the select for screen readers.
            field.widget.attrs["aria-label"] = "Reviewer"
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Call)
class CallAdmin(
    ReleasesAdminMixin, OutcomeAdminMixin, AcknowledgementsAdminMixin, admin.ModelAdmin
):
    form = CallAdminForm
    list_display = [
        "title",
        "opens_at",
        "closes_at",
        "late_policy",
        "published",
        "start_page_link",
        "acknowledgements_link",
        "releases_link",
        "outcome_link",
    ]
    list_filter = ["published", "late_policy"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [QuestionInline, CallReviewerInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "published", "summary_heading", "summary", "asks"]}),
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
        ("Files", {"fields": ["max_files", "max_file_size_mb"]}),
        ("Credits and open data", {"fields": ["credits_hidden", "credits_frozen"]}),
    ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if isinstance(db_field, models.DateTimeField) and field is not None:
            # Django's split date and time boxes have no <label> each; name them.
            date_box, time_box = field.widget.widgets
            date_box.attrs["aria-label"] = f"{capfirst(db_field.verbose_name)}: date"
            time_box.attrs["aria-label"] = f"{capfirst(db_field.verbose_name)}: time"
        return field

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        return [
            path("<int:pk>/preview/", preview, name="submissions_call_preview"),
            *super().get_urls(),
        ]

    @admin.display(description="Start page")
    def start_page_link(self, obj: Call) -> str:
        if obj.published and timezone.now() >= obj.opens_at:
            return format_html('<a href="{}">Open</a>', reverse("start", args=[obj.slug]))
        url = reverse("admin:submissions_call_preview", args=[obj.pk])
        return format_html('<a href="{}">Preview</a>', url)

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The start page of a call that is not public yet, for staff who may see the call."""
        calls = self.get_queryset(request).with_credits_shown()
        call = get_object_or_404(calls, pk=pk)
        if not self.has_view_permission(request, call):
            raise PermissionDenied
        now = timezone.now()
        reasons = []
        if not call.published:
            reasons.append("This call is not published.")
        if now < call.opens_at:
            reasons.append(f"It opens on {uk_time(call.opens_at)}.")
        context = {
            **start_context(call, now),
            "preview": " ".join(reasons) or "This is how the public sees the start page now.",
        }
        response = render(request, "submissions/start.html", context)
        response["X-Robots-Tag"] = "noindex"
        return response

    def get_queryset(self, request):
        # A reviewer reads only the calls they review; call managers see every call.
        return super().get_queryset(request).filter(of_reviewable_calls(request, "pk"))

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # As for submissions: another call's change, delete and history pages are "not found",
        # the same answer as for an id never used (not Django's redirect to the index).
        raise Http404("No such call among the calls you review")

    @admin.display(description="Maximum file size (MB)")
    def max_file_size_mb(self, obj: Call) -> str:
        # Shown to staff who may only view the call; the form has its own field of this name.
        return f"{obj.max_file_size / MB:.1f}"


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    form = StaffModelForm
    list_display = ["name", "submission_count"]
    search_fields = ["name"]

    def get_queryset(self, request):
        # Themes are shared by every call; their counts are not. What the list of submissions
        # shows for the theme: the submitted ones of the calls this user reviews.
        counted = Q(submissions__state=Submission.State.SUBMITTED) & of_reviewable_calls(
            request, "submissions__call"
        )
        return (
            super()
            .get_queryset(request)
            .annotate(submission_count=Count("submissions", filter=counted))
        )

    @admin.display(description="Submissions", ordering="submission_count")
    def submission_count(self, obj: "WithAnnotations[Theme, SubmissionCount]") -> int:
        return obj.submission_count

    # A theme is shared by every call: renaming or deleting one changes every call's work, and
    # the deletion page lists what uses it, in every call. Only staff who see every call may.
    def has_change_permission(self, request, obj=None) -> bool:
        return sees_every_call(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return sees_every_call(request.user) and super().has_delete_permission(request, obj)

"""A minimal submissions admin for the export branch; the full one lives on the admin branch."""

from django.contrib import admin

from .admin_export import ExportAdminMixin
from .models import Submission


@admin.register(Submission)
class SubmissionAdmin(ExportAdminMixin, admin.ModelAdmin):
    list_display = ["reference", "name", "organisation", "call", "state", "review_status"]
    list_filter = ["call", "state", "review_status", "is_late"]
    search_fields = ["reference", "name", "organisation", "email"]
    list_select_related = ["call"]

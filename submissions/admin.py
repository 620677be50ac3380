from django.contrib import admin

from .admin_export import ExportAdminMixin
from .admin_files import AttachmentInline
from .models import Submission


@admin.register(Submission)
class SubmissionAdmin(ExportAdminMixin, admin.ModelAdmin):
    list_display = ["reference", "name", "organisation", "call", "state", "review_status"]
    list_filter = ["call", "state", "review_status", "is_late"]
    search_fields = ["reference", "name", "organisation", "email"]
    list_select_related = ["call"]
    inlines = [AttachmentInline]

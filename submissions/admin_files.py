"""Attachments in the admin: listed on their submission, each linked to the checked download."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from .models import Attachment
from .templatetags.journey import filesize


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    # The file field itself is left out: its widget would ask the storage for a public URL.
    fields = ["download", "file_size", "content_type", "sha256", "uploaded_at"]
    readonly_fields = fields
    verbose_name = "file"

    @admin.display(description="file")
    def download(self, attachment: Attachment) -> str:
        return format_html(
            '<a href="{}">{}</a>', attachment.get_absolute_url(), attachment.original_name
        )

    @admin.display(description="size")
    def file_size(self, attachment: Attachment) -> str:
        return filesize(attachment.size)

    # Seeing the files goes with seeing the submission, as in the download view.
    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("submissions.view_submission")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

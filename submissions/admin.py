from django.contrib import admin

from .admin_files import AttachmentInline
from .models import Submission


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    inlines = [AttachmentInline]

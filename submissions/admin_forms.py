"""Admin forms: a call's maximum file size is entered in MB, and kept in bytes."""

from decimal import Decimal

from django import forms
from django.conf import settings

from .models import Call

MB = 1024 * 1024


class CallAdminForm(forms.ModelForm):
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

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # ModelForm.clean() returns cleaned_data
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

"""Indexes for the submissions list at a million rows (issue 23): late submissions, withdrawal
requests, and submissions by theme.

Late ones all come after the deadline and withdrawal requests are rare: through the other
indexes, counting or ordering them reads every submitted submission. The themes' link table is
Django's own (no model to hang an index on): with (theme, submission) the list's theme filter
counts from the index alone.
"""

from django.conf import settings
from django.db import migrations, models

THEMES_INDEX = "submission_themes_by_theme"


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0022_submission_tally"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="submission",
            index=models.Index(
                condition=models.Q(("is_late", True), ("state", "submitted")),
                fields=["-submitted_at"],
                include=("call", "id"),
                name="submission_late",
            ),
        ),
        migrations.AddIndex(
            model_name="submission",
            index=models.Index(
                condition=models.Q(("withdrawal_requested_at__isnull", False)),
                fields=["-submitted_at"],
                include=("call", "id"),
                name="submission_withdrawal",
            ),
        ),
        migrations.RunSQL(
            f"CREATE INDEX {THEMES_INDEX} ON submissions_submission_themes"
            " (theme_id, submission_id)",
            f"DROP INDEX {THEMES_INDEX}",
        ),
    ]

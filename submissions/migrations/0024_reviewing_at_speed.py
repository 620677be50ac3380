"""Reviewing at speed (issue 24): erased status links say so, a new status link by email,
"Lost your link?" finds submissions by address, corrected co-contributors are in the history,
and each call's summary has a heading of its own ("What we found" for the seeded call, as
before).
"""

import django.db.models.functions.text
import django.utils.timezone
from django.db import migrations, models

import submissions.common.text

SLUG = "what-works-social-media"


def seed_heading(apps, schema_editor):
    Call = apps.get_model("submissions", "Call")
    Call.objects.filter(slug=SLUG, summary_heading="").update(summary_heading="What we found")


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0023_list_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="ErasedLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token_sha256", models.CharField(max_length=64, unique=True)),
                ("erased_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.AddField(
            model_name="call",
            name="summary_heading",
            field=models.CharField(
                blank=True,
                help_text="The start page's heading over the summary, in the call's own words, e.g. “What we found” or “Why we are asking”.",
                max_length=100,
                validators=[submissions.common.text.validate_single_line],
                verbose_name="heading over the summary",
            ),
        ),
        migrations.AlterField(
            model_name="outgoingemail",
            name="kind",
            field=models.CharField(
                choices=[
                    ("receipt", "Receipt to the contributor"),
                    ("notification", "New submission, to staff"),
                    ("digest", "Daily digest, to staff"),
                    ("resume_link", "Link to come back to a draft"),
                    ("status_link", "New status link, to the contributor"),
                    ("published", "Contribution published, to the contributor"),
                    ("toolkit_published", "Toolkit published, to a contributor in it"),
                    ("thank_you", "Thank you and the outcome, to another contributor"),
                    ("withdrawal_requested", "Withdrawal requested, to staff"),
                    ("erased", "Submission erased, to its contributor"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddIndex(
            model_name="submission",
            index=models.Index(
                django.db.models.functions.text.Upper("email"), name="submission_email_upper"
            ),
        ),
        migrations.AlterField(
            model_name="reviewchange",
            name="field",
            field=models.CharField(
                choices=[
                    ("review_status", "Review status"),
                    ("themes", "Themes"),
                    ("assigned_reviewer", "Assigned reviewer"),
                    ("reviewer_notes", "Reviewer notes"),
                    ("withheld_from_open_data", "Withheld from publication"),
                    ("redaction", "Redaction"),
                    ("name", "Name"),
                    ("organisation", "Organisation"),
                    ("orcid", "ORCID iD"),
                    ("credit_preference", "Credit preference"),
                    ("co_contributors", "Co-contributors"),
                    ("withdrawal_requested", "Withdrawal requested"),
                ],
                max_length=30,
            ),
        ),
        migrations.RunPython(seed_heading, migrations.RunPython.noop),
    ]

"""Releases (issue 21): public ids, numbered dated releases, their entries and stored segments,
and redactions with reasons; "withhold" now takes a contribution off every public page."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import submissions.models.releases


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0018_no_default_notification"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="call",
            name="credits_hidden",
            field=models.BooleanField(
                default=False,
                help_text="Hide every public page of this call's releases (the credits, the contributions' pages, the open data and its feed), even once published.",
                verbose_name="hide the credits page",
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
                    ("published", "Contribution published, to the contributor"),
                    ("toolkit_published", "Toolkit published, to a contributor in it"),
                    ("thank_you", "Thank you and the outcome, to another contributor"),
                    ("withdrawal_requested", "Withdrawal requested, to staff"),
                    ("erased", "Submission erased, to its contributor"),
                ],
                max_length=20,
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
                    ("withdrawal_requested", "Withdrawal requested"),
                ],
                max_length=30,
            ),
        ),
        migrations.AlterField(
            model_name="submission",
            name="withheld_from_open_data",
            field=models.BooleanField(
                default=False,
                help_text="Takes it off every public page and file at once (its page, its credit, its row in the open data of every release), and out of later releases.",
                verbose_name="withhold from publication",
            ),
        ),
        migrations.CreateModel(
            name="Redaction",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("part", models.CharField(max_length=30)),
                ("text", models.TextField(blank=True)),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("third_party", "Personal data of a third party"),
                            ("contributor", "Personal data of the contributor"),
                            ("defamatory", "Possibly defamatory"),
                            ("off_topic", "Off-topic"),
                            ("other", "Other (say why in the note)"),
                        ],
                        max_length=20,
                    ),
                ),
                ("note", models.TextField(blank=True)),
                ("created_by_name", models.CharField(blank=True, max_length=150)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "submission",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="redactions",
                        to="submissions.submission",
                    ),
                ),
            ],
            options={
                "ordering": ["submission", "created_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="Release",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField()),
                ("published_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("published_by_name", models.CharField(blank=True, max_length=150)),
                (
                    "notes",
                    models.TextField(
                        blank=True,
                        help_text="Public: shown on the open data page and in the feed of releases.",
                        verbose_name="what changed",
                    ),
                ),
                ("columns", models.JSONField(default=list)),
                ("contribution_count", models.PositiveIntegerField(default=0)),
                ("unnamed_count", models.PositiveIntegerField(default=0)),
                ("added_count", models.PositiveIntegerField(default=0)),
                ("revision", models.PositiveIntegerField(default=0)),
                ("amended_at", models.DateTimeField(blank=True, null=True)),
                ("package", models.TextField(blank=True)),
                ("csv_header", models.TextField(blank=True)),
                ("csv_size", models.PositiveBigIntegerField(default=0)),
                ("csv_etag", models.CharField(blank=True, max_length=80)),
                ("json_size", models.PositiveBigIntegerField(default=0)),
                ("json_etag", models.CharField(blank=True, max_length=80)),
                (
                    "call",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="releases",
                        to="submissions.call",
                    ),
                ),
                (
                    "published_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["call", "-number"],
            },
        ),
        migrations.CreateModel(
            name="PublicContribution",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "public_id",
                    models.CharField(
                        default=submissions.models.releases.new_public_id,
                        max_length=12,
                        unique=True,
                    ),
                ),
                ("announced_at", models.DateTimeField(blank=True, null=True)),
                (
                    "call",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="public_contributions",
                        to="submissions.call",
                    ),
                ),
                (
                    "submission",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="public",
                        to="submissions.submission",
                    ),
                ),
                (
                    "first_release",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="first_contributions",
                        to="submissions.release",
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
            },
        ),
        migrations.CreateModel(
            name="ReleaseEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveIntegerField()),
                ("segment", models.PositiveIntegerField()),
                ("credit_line", models.TextField(blank=True)),
                ("anonymous", models.BooleanField(default=False)),
                ("sort_key", models.TextField(blank=True)),
                ("authors", models.JSONField(default=list)),
                ("themes", models.JSONField(default=list)),
                (
                    "contribution",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="entries",
                        to="submissions.publiccontribution",
                    ),
                ),
                (
                    "release",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="entries",
                        to="submissions.release",
                    ),
                ),
            ],
            options={
                "ordering": ["release", "position"],
            },
        ),
        migrations.CreateModel(
            name="ReleaseSegment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("index", models.PositiveIntegerField()),
                ("rows", models.PositiveIntegerField(default=0)),
                ("csv_name", models.CharField(blank=True, max_length=255)),
                ("csv_size", models.PositiveBigIntegerField(default=0)),
                ("csv_sha256", models.CharField(blank=True, max_length=64)),
                ("json_name", models.CharField(blank=True, max_length=255)),
                ("json_size", models.PositiveBigIntegerField(default=0)),
                ("json_sha256", models.CharField(blank=True, max_length=64)),
                (
                    "release",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="segments",
                        to="submissions.release",
                    ),
                ),
            ],
            options={
                "ordering": ["release", "index"],
            },
        ),
        migrations.AddConstraint(
            model_name="release",
            constraint=models.UniqueConstraint(
                fields=("call", "number"), name="release_number_unique"
            ),
        ),
        migrations.AddIndex(
            model_name="releaseentry",
            index=models.Index(
                fields=["release", "anonymous", "sort_key", "position"],
                name="release_entry_credits",
            ),
        ),
        migrations.AddIndex(
            model_name="releaseentry",
            index=models.Index(
                fields=["release", "segment", "position"], name="release_entry_segment"
            ),
        ),
        migrations.AddIndex(
            model_name="releaseentry",
            index=models.Index(
                fields=["contribution", "release"], name="release_entry_contribution"
            ),
        ),
        migrations.AddConstraint(
            model_name="releaseentry",
            constraint=models.UniqueConstraint(
                fields=("release", "contribution"), name="release_entry_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="releasesegment",
            constraint=models.UniqueConstraint(
                fields=("release", "index"), name="release_segment_unique"
            ),
        ),
    ]

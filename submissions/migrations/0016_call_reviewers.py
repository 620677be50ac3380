"""Reviewers assigned to calls; call managers assign them and see every call.

Call managers get the new "review every call" permission and may add and remove assignments.
Reviewers get nothing new: they see the calls they are assigned to (submissions/access.py).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

CALL_MANAGER_PERMISSIONS = [
    "review_every_call",
    "view_callreviewer",
    "add_callreviewer",
    "change_callreviewer",
    "delete_callreviewer",
]


def grant_call_managers(apps, schema_editor):
    # Permissions are normally made after all migrations run; make them now to grant them.
    submissions_app = apps.get_app_config("submissions")
    submissions_app.models_module = True
    create_permissions(
        submissions_app, verbosity=0, using=schema_editor.connection.alias, apps=apps
    )
    submissions_app.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="submissions", codename__in=CALL_MANAGER_PERMISSIONS
    )
    assert permissions.count() == len(CALL_MANAGER_PERMISSIONS)
    for group in Group.objects.filter(name="Call managers"):
        group.permissions.add(*permissions)


def revoke_call_managers(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="submissions", codename__in=CALL_MANAGER_PERMISSIONS
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0015_journey_standard"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CallReviewer",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "assigned_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "call",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reviewer_assignments",
                        to="submissions.call",
                    ),
                ),
                (
                    "reviewer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="call_assignments",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "reviewer of this call",
                "verbose_name_plural": "reviewers of this call",
                "permissions": [("review_every_call", "Can review the submissions of every call")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("call", "reviewer"), name="call_reviewer_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(grant_call_managers, revoke_call_managers),
    ]

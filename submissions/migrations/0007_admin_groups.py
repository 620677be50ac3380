"""The two staff roles: Reviewers and Call managers.

Reviewers read submissions and change only the review fields (the admin makes contributors'
words read-only for everyone). Call managers may also edit calls and questions, export, and
delete (erase) submissions. Add people to a group in the admin under Users.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

REVIEWERS = "Reviewers"
CALL_MANAGERS = "Call managers"

REVIEWER_PERMISSIONS = [
    "view_submission",
    "change_submission",
    "view_call",
    "view_question",
    "view_theme",
    "add_theme",
]
CALL_MANAGER_PERMISSIONS = [
    *REVIEWER_PERMISSIONS,
    "delete_submission",
    "export_submissions",
    "view_exportrecord",
    "add_call",
    "change_call",
    "add_question",
    "change_question",
    "delete_question",
    "change_theme",
    "delete_theme",
]


def create_groups(apps, schema_editor):
    # Permissions are normally made after all migrations run; make them now to assign them.
    submissions_app = apps.get_app_config("submissions")
    submissions_app.models_module = True
    create_permissions(
        submissions_app, verbosity=0, using=schema_editor.connection.alias, apps=apps
    )
    submissions_app.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in [
        (REVIEWERS, REVIEWER_PERMISSIONS),
        (CALL_MANAGERS, CALL_MANAGER_PERMISSIONS),
    ]:
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(
            content_type__app_label="submissions", codename__in=codenames
        )
        assert permissions.count() == len(codenames), f"missing permissions for {name}"
        group.permissions.add(*permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[REVIEWERS, CALL_MANAGERS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0006_admin_review_history"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]

"""Staff notifications go only where a call manager says: the seeded call's stop going to its
public contact address (0013 copied it there; often one person's own mailbox)."""

from django.db import migrations, models

SEEDED_CALL = "what-works-social-media"


def stop_notifying_the_contact(apps, schema_editor):
    Call = apps.get_model("submissions", "Call")
    # Only the value 0013 wrote: addresses a call manager has set since are theirs to keep.
    Call.objects.filter(slug=SEEDED_CALL, notification_emails=models.F("contact_email")).update(
        notification_emails=""
    )


class Migration(migrations.Migration):
    dependencies = [("submissions", "0017_outcome")]

    operations = [
        migrations.AlterField(
            model_name="call",
            name="notification_emails",
            field=models.TextField(
                blank=True,
                help_text="Staff addresses told of each new submission, one per line. Leave it "
                "empty to tell nobody (or the addresses in the STAFF_NOTIFICATION_EMAILS "
                "setting, if any). The contact address is never told unless it is listed here.",
            ),
        ),
        # Going back leaves the addresses empty: nobody is told rather than a real person.
        migrations.RunPython(stop_notifying_the_contact, migrations.RunPython.noop),
    ]

"""Co-contributors on a submission; each call's "what happens next"; the seeded call's name.

The seeded call's timeline comes from the call's own text: "we plan to synthesise the learning
from contributions during the 'What Works' event and will credit contributors when their work is
included in the toolkit". Its title loses " - call for evidence": the pages say what the service
is, and a step's title reads "About you, What Works: Social Media, NCCPE" (en dashes).
"""

from django.db import migrations, models

SLUG = "what-works-social-media"
OLD_TITLE = "What Works: Social Media - call for evidence"
NEW_TITLE = "What Works: Social Media"

NEXT_STEPS = """\
- After the deadline (Tuesday 6 March 2018) we read every contribution, and email you if we \
have a question.
- We synthesise the learning from the contributions during the 'What Works' event.
- That learning becomes a toolkit for academics who want to engage the public through social \
media, shared under the Creative Commons licence you agreed to.
- If your work is included in the toolkit, we credit you as you chose."""


def seed(apps, schema_editor):
    Call = apps.get_model("submissions", "Call")
    Call.objects.filter(slug=SLUG, next_steps="").update(next_steps=NEXT_STEPS)
    Call.objects.filter(slug=SLUG, title=OLD_TITLE).update(title=NEW_TITLE)


def unseed(apps, schema_editor):
    Call = apps.get_model("submissions", "Call")
    Call.objects.filter(slug=SLUG, title=NEW_TITLE).update(title=OLD_TITLE)


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0014_credits_open_data"),
    ]

    operations = [
        migrations.AddField(
            model_name="call",
            name="next_steps",
            field=models.TextField(
                blank=True,
                help_text="Shown on the confirmation page: the call's own timeline after the deadline. Blank lines separate paragraphs; lines starting '- ' make a list.",
                verbose_name="what happens next",
            ),
        ),
        migrations.AddField(
            model_name="submission",
            name="co_contributors",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(seed, unseed),
    ]

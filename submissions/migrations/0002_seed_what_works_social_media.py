"""Create NCCPE's "What Works: Social Media" call of 2018 from the original call text."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import migrations

LONDON = ZoneInfo("Europe/London")
SLUG = "what-works-social-media"

SUMMARY = """\
Last year, the NCCPE commissioned a short piece of desk research to explore the use of social \
media in engaging the public with research. The researcher found:

- Researchers are mainly using social media for the purposes of peer-to-peer networking and \
dissemination, and many receive support from their universities to do so.
- Significantly fewer researchers use social media to open up conversations or invite \
collaboration from the public.

Reasons for this could include:

- Social media may not be currently perceived by academics as a suitable means to engage the \
public with university research. By contrast, many large public facing commercial organisations \
run sophisticated public engagement programmes primarily through social media.
- Concerns that we may lack rigorous analytical tools for engagement through social media.
- Guidance from universities tends to focus only on dissemination and peer-to-peer networking; \
support materials are often out of date and cover only the most rudimentary basics of social \
networking.
- Researchers may be reluctant to embrace social media, because it is still not highly regarded \
by some sections of the academic community.
- Researchers may be concerned about how others may respond to their comments, and how quickly \
this can escalate.

We are now looking to develop support for academics who want to engage the public using social \
media, and we are keen to hear from you!"""

ASKS = """\
If you can answer any of these questions, please respond to our call for evidence."""

LICENCE_SUMMARY = """\
We will share the outputs from this work under a Creative Commons licence (CC BY-NC 4.0): people \
can copy, adapt and share the resource for non-commercial educational purposes, as long as they \
credit where it came from. It may not be used commercially."""

CONSENT_WORDING = """\
Are you happy for your contribution to be shared under the Creative Commons \
Attribution-NonCommercial 4.0 International licence (CC BY-NC 4.0), so that people can use it \
for non-commercial educational purposes as long as they credit where it came from?"""

CREDIT_PROMISE = """\
We plan to synthesise the learning from contributions during the 'What Works' event and will \
credit contributors when their work is included in the toolkit."""

PRIVACY_NOTICE = """\
We use your name, email address, role and organisation to contact you about your contribution \
and, if you ask us to, to credit you in the toolkit. Your email address is never published. \
Only NCCPE staff reviewing the call can see your submission and files. To see, correct or \
delete what we hold about you, email the contact address on this page."""

QUESTIONS = [
    (
        "Excellent practice",
        "What excellent practice have we missed?",
        "Tell us about public engagement through social media that works well, and why.",
    ),
    (
        "Research and ideas",
        "Have you researched the use of social media and have ideas of how to make this work well?",
        "Summarise your research or ideas; add links or files for the detail.",
    ),
    (
        "Tools",
        "Do you have tools to support people wanting to enhance their work in this area?",
        "Describe the tool, who it is for and how people can get it.",
    ),
    (
        "Addressing the challenges",
        "Have you come up with ways of addressing the challenges to engaging in this way?",
        "For example: low regard for social media in academia, or how quickly responses escalate.",
    ),
]


def seed(apps, schema_editor):
    Call = apps.get_model("submissions", "Call")
    Question = apps.get_model("submissions", "Question")
    call = Call.objects.create(
        slug=SLUG,
        title="What Works: Social Media - call for evidence",
        summary=SUMMARY,
        asks=ASKS,
        opens_at=datetime(2018, 1, 1, 0, 0, tzinfo=LONDON),
        # "The deadline for submissions is Tuesday 6th March 2018": the end of that day, UK time.
        closes_at=datetime(2018, 3, 6, 23, 59, tzinfo=LONDON),
        # Accept and flag, so the service can be tried today.
        late_policy="accept_late",
        licence_id="CC-BY-NC-4.0",
        licence_name="Creative Commons Attribution-NonCommercial 4.0 International",
        licence_version="4.0",
        licence_url="https://creativecommons.org/licenses/by-nc/4.0/",
        licence_summary=LICENCE_SUMMARY,
        consent_wording=CONSENT_WORDING,
        consent_version="1",
        credit_promise=CREDIT_PROMISE,
        privacy_notice=PRIVACY_NOTICE,
        contact_email="stephanie.todd@uwe.ac.uk",
        published=True,
    )
    for position, (short_title, text, help_text) in enumerate(QUESTIONS, start=1):
        Question.objects.create(
            call=call,
            position=position,
            short_title=short_title,
            text=text,
            help_text=help_text,
            max_length=5000,
        )


def unseed(apps, schema_editor):
    apps.get_model("submissions", "Call").objects.filter(slug=SLUG, submissions=None).delete()


class Migration(migrations.Migration):
    dependencies = [("submissions", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]

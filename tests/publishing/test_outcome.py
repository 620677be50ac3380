"""The public outcome page: what was asked, who contributed by theme, what the event learned,
the toolkit and the credits; linked from the call's start and closed pages once published."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from submissions.models import Submission, SynthesisNote, SynthesisPack, Theme

from ..factories import make_call, make_call_manager, make_submission

pytestmark = pytest.mark.django_db
INCLUDED = Submission.ReviewStatus.INCLUDED


@pytest.fixture
def outcome(seeded_call):
    """The seeded call after the event: contributions under two themes, notes on both."""
    tools = Theme.objects.create(name="Tools")
    risks = Theme.objects.create(name="Risks")
    ana = make_submission(seeded_call, name="Ana Jones", organisation="UWE", review_status=INCLUDED)
    ana.themes.set([tools, risks])
    bob = make_submission(seeded_call, name="Bo Li", organisation="", review_status=INCLUDED)
    bob.themes.set([tools])
    cy = make_submission(seeded_call, name="Cy Shortlisted", organisation="Open University")
    cy.themes.set([risks])
    dee = make_submission(seeded_call, name="Dee Withdrawn", organisation="Kent")
    dee.themes.set([risks])
    dee.request_withdrawal()
    make_submission(seeded_call, name="Eli Unthemed")
    make_submission(seeded_call, name="Fi Draft", state=Submission.State.DRAFT)
    manager = make_call_manager()
    SynthesisNote.record(
        seeded_call,
        tools,
        text="Short videos travel further.\n\n- caption them\n- keep them short",
        informed_by=[ana, bob, cy],
        published=True,
        by=manager,
        by_name="Bob",
    )
    SynthesisNote.record(
        seeded_call,
        risks,
        text="Not ready to share.",
        informed_by=[cy],
        published=False,
        by=manager,
        by_name="Bob",
    )
    return seeded_call, tools, risks


def test_the_outcome_page_is_not_found_until_published(outcome):
    call, *_ = outcome

    assert Client().get(f"/{call.slug}/outcome/").status_code == 404
    call.publish_outcome()
    assert Client().get(f"/{call.slug}/outcome/").status_code == 200
    call.unpublish_outcome()
    assert Client().get(f"/{call.slug}/outcome/").status_code == 404


def test_it_says_what_was_asked_who_contributed_what_was_learned_and_who_is_credited(outcome):
    call, *_ = outcome
    call.publish_outcome()

    page = Client().get(f"/{call.slug}/outcome/").content.decode()

    assert "What excellent practice have we missed?" in page
    assert "4 contributions came in" in page  # Dee withdrew; Fi never sent
    counts = page[page.index("outcome-counts") :]
    assert '<th scope="row">Risks</th><td class="text-end">2</td>' in counts
    assert '<th scope="row">Tools</th><td class="text-end">2</td>' in counts
    assert '<th scope="row">No theme</th><td class="text-end">1</td>' in counts
    # The published note only, with the included contributions that informed it credited.
    assert "<p>Short videos travel further.</p>" in page
    assert "<ul><li>caption them</li><li>keep them short</li></ul>" in page
    assert "Not ready to share." not in page
    assert "Informed by contributions from Ana Jones, UWE; Bo Li, and 1 other contribution." in page
    assert "Cy Shortlisted" not in page and "Dee" not in page
    # The credits: the included ones.
    assert "<li>Ana Jones, UWE</li>" in page and "<li>Bo Li</li>" in page
    assert "@" not in page.replace("mailto:", "").split("<footer")[0]
    assert "read the toolkit" not in page


def test_the_toolkit_link_appears_once_the_toolkit_is_marked_published(outcome):
    call, *_ = outcome
    call.mark_toolkit_published("https://toolkit.example/social", thank_others=False, by="Bob")

    page = Client().get(f"/{call.slug}/outcome/").content.decode()

    assert '<a href="https://toolkit.example/social">read the toolkit</a>' in page


def test_hidden_credits_stay_hidden_on_the_outcome_page(outcome):
    call, *_ = outcome
    call.credits_hidden = True
    call.save(update_fields=["credits_hidden"])
    call.publish_outcome()

    page = Client().get(f"/{call.slug}/outcome/").content.decode()

    assert "The credits will be published here." in page
    assert "<li>Ana Jones, UWE</li>" not in page


def test_the_notes_follow_the_packs_order_of_themes(outcome):
    call, tools, risks = outcome
    SynthesisNote.objects.filter(theme=risks).update(published=True)
    call.publish_outcome()
    page = lambda: Client().get(f"/{call.slug}/outcome/").content.decode()  # noqa: E731

    assert page().index("Not ready to share.") < page().index("Short videos")  # by name
    SynthesisPack.objects.create(call=call, theme_order=[tools.pk, risks.pk])
    assert page().index("Short videos") < page().index("Not ready to share.")


def test_the_start_and_closed_pages_link_to_it_once_published():
    london = ZoneInfo("Europe/London")
    call = make_call(closes_at=datetime(2018, 3, 6, 23, 59, tzinfo=london))
    link = f'<a href="/{call.slug}/outcome/">what came of this call</a>'
    with time_machine.travel(datetime(2018, 5, 1, tzinfo=london), tick=False):
        pages = lambda: [  # noqa: E731
            Client().get(f"/{call.slug}/{path}").content.decode() for path in ("", "closed/")
        ]
        assert not any(link in page for page in pages())
        call.publish_outcome()
        assert all(link in page for page in pages())


def test_the_outcome_page_costs_the_same_queries_however_many_contributed(outcome):
    call, tools, risks = outcome
    call.publish_outcome()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert Client().get(f"/{call.slug}/outcome/").status_code == 200
        return len(captured)

    few = queries()
    note = SynthesisNote.objects.get(theme=tools)
    for n in range(20):
        submission = make_submission(call, name=f"Person {n}", review_status=INCLUDED)
        submission.themes.set([tools, risks])
        note.informed_by.add(submission)
    assert queries() == few == 8

"""The public outcome page: what was asked, who contributed by theme, what the event learned,
the toolkit and the credits; linked from the call's start and closed pages once published."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from submissions.models import Redaction, Submission, SynthesisNote, SynthesisPack, Theme
from submissions.publishing.releases import take_down

from ..factories import make_call, make_call_manager, make_submission
from .helpers import page_url, publish

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
    publish(seeded_call)  # release 1: Ana's and Bo's
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
    ana, bo = (Submission.objects.get(name=name) for name in ("Ana Jones", "Bo Li"))
    ana_link = f'<a href="{page_url(call, ana)}">Ana Jones, UWE</a>'
    bo_link = f'<a href="{page_url(call, bo)}">Bo Li</a>'
    assert f"Informed by contributions from {ana_link}; {bo_link}, and 1 other contribution." in (
        page
    )
    assert "Cy Shortlisted" not in page and "Dee" not in page
    # The credits: release 1's, each linked to its contribution's page.
    assert f"<li>{ana_link}</li>" in page and f"<li>{bo_link}</li>" in page
    assert f'<a href="/{call.slug}/open-data/releases/1/">release 1</a>' in page
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
    assert "Ana Jones" not in page and "Bo Li" not in page
    assert "Informed by 3 contributions." in page  # counted, not named


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
    publish(call)
    assert "Person 19" in Client().get(f"/{call.slug}/outcome/").content.decode()
    assert queries() == few == 9


def outcome_page(call) -> str:
    return Client().get(f"/{call.slug}/outcome/").content.decode()


def test_a_contribution_included_but_not_released_is_counted_never_named(outcome):
    call, tools, _ = outcome
    call.publish_outcome()
    gus = make_submission(
        call, name="Gus Unreleased", organisation="Nowhere", review_status=INCLUDED
    )
    gus.themes.set([tools])
    SynthesisNote.objects.get(theme=tools).informed_by.add(gus)

    page = outcome_page(call)

    assert "Gus" not in page and "Nowhere" not in page
    assert "Bo Li</a>, and 2 other contributions." in page  # Cy and Gus, counted
    publish(call)  # release 2: now it is public
    assert f'<a href="{page_url(call, gus)}">Gus Unreleased, Nowhere</a>' in outcome_page(call)


def test_one_withheld_from_publication_is_never_named(seeded_call):
    withheld = make_submission(
        seeded_call, name="Wyn Withheld", review_status=INCLUDED, withheld_from_open_data=True
    )
    make_submission(seeded_call, name="Ana Jones", organisation="UWE", review_status=INCLUDED)
    theme = Theme.objects.create(name="Tools")
    SynthesisNote.record(seeded_call, theme, text="Learned.", informed_by=[withheld],
                         published=True, by=None, by_name="Bob")  # fmt: skip
    publish(seeded_call)
    seeded_call.publish_outcome()

    page = outcome_page(seeded_call)

    assert "Wyn" not in page
    assert "Ana Jones, UWE</a></li>" in page
    assert "Informed by 1 contribution." in page


def test_a_withdrawn_or_erased_contribution_disappears_at_once(outcome):
    call, *_ = outcome
    call.publish_outcome()
    ana, bo = (Submission.objects.get(name=name) for name in ("Ana Jones", "Bo Li"))
    assert "Ana Jones" in outcome_page(call) and "Bo Li" in outcome_page(call)

    ana.request_withdrawal()  # as the status page does; no release needed to take it off
    page = outcome_page(call)
    assert "Ana Jones" not in page and page_url(call, ana) not in page
    assert "Informed by contributions from" in page and "and 1 other contribution." in page

    bo.erase()
    page = outcome_page(call)
    assert "Bo Li" not in page and "Informed by 1 contribution." in page  # Cy, still counted


def test_one_taken_down_by_staff_disappears_at_once(outcome):
    call, *_ = outcome
    call.publish_outcome()
    bo = Submission.objects.get(name="Bo Li")
    Submission.objects.filter(pk=bo.pk).update(withheld_from_open_data=True)
    take_down(bo)  # the admin's "withhold"

    assert "Bo Li" not in outcome_page(call)


def test_before_the_first_release_nobody_is_named():
    call = make_call()
    ana = make_submission(call, name="Ana Jones", organisation="UWE", review_status=INCLUDED)
    theme = Theme.objects.create(name="Tools")
    SynthesisNote.record(call, theme, text="Learned.", informed_by=[ana], published=True,
                         by=None, by_name="Bob")  # fmt: skip
    call.publish_outcome()

    page = outcome_page(call)

    assert "Ana Jones" not in page and "UWE" not in page
    assert "Informed by 1 contribution." in page
    assert "The credits will be published here." in page


def test_a_redacted_span_never_appears(outcome):
    call, *_ = outcome
    question = call.questions.first()
    hal = make_submission(call, name="Hal Redacted", review_status=INCLUDED,
                          answers={str(question.pk): "Ask Dr Hidden Person."})  # fmt: skip
    Redaction.add(hal, part=Redaction.answer_part(question), text="Dr Hidden Person",
                  reason=Redaction.Reason.THIRD_PARTY)  # fmt: skip
    publish(call)
    call.publish_outcome()

    page = outcome_page(call)

    assert "Hidden" not in page and page_url(call, hal) in page


def test_a_long_list_of_credits_ends_with_a_link_to_the_credits_page(outcome, monkeypatch):
    from submissions.publishing import releases

    call, *_ = outcome
    call.publish_outcome()
    monkeypatch.setattr(releases, "CREDITS_SHOWN", 1)

    page = outcome_page(call)

    assert "Ana Jones, UWE</a></li>" in page and "Bo Li</a></li>" not in page
    assert f'And 1 more contribution on <a href="/{call.slug}/credits/">the credits page</a>.' in (
        page
    )


def test_each_note_names_its_own_released_contributions_once(outcome):
    call, _, risks = outcome
    ana = Submission.objects.get(name="Ana Jones")
    risky = SynthesisNote.objects.get(theme=risks)
    risky.informed_by.set([ana])
    SynthesisNote.objects.filter(pk=risky.pk).update(published=True)
    call.publish_outcome()

    page = outcome_page(call)

    tools_part = page[page.index("Short videos") :]
    risks_part = page[page.index("Not ready to share.") : page.index("Short videos")]
    ana_link = f'<a href="{page_url(call, ana)}">Ana Jones, UWE</a>'
    assert risks_part.count(ana_link) == 1 and "Bo Li" not in risks_part
    assert "Informed by contributions from " + ana_link + ".</p>" in risks_part
    assert tools_part.count(ana_link) == 2  # its note, and the credits

"""The whole journey, from the start page to the confirmation, through the test client."""

import hashlib
import re

import pytest
from django.core import mail

from submissions.models import REFERENCE_ALPHABET, Submission

from ..contributor import ABOUT, url, walk_to
from ..worker import run_worker

pytestmark = pytest.mark.django_db


def test_it_shows_the_open_call_at_the_root(client, seeded_call):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == url(seeded_call, "start")


def test_the_start_page_describes_the_call(client, seeded_call):
    response = client.get(url(seeded_call, "start"))
    page = response.content.decode()
    assert "<title>What Works: Social Media \N{EN DASH} NCCPE</title>" in page
    assert "Call for evidence</p>\n<h1" in page
    assert "peer-to-peer networking" in page
    assert "Tuesday 6 March 2018, 11:59pm UK time" in page
    assert "CC-BY-NC-4.0" in page
    assert "stephanie.todd@uwe.ac.uk" in page
    assert "Privacy notice" in page
    assert "credit contributors" in page
    assert "Start now" in page


def test_a_contributor_submits_evidence_and_gets_a_reference(client, seeded_call):
    walk_to(client, seeded_call, "check")
    check = client.get(url(seeded_call, "check"))
    page = check.content.decode()
    assert "Jane Smith, University of Bristol" in page
    assert "We ran a Twitter chat with patients." in page
    assert "https://example.org/report" in page

    response = client.post(url(seeded_call, "check"))
    assert response.url == url(seeded_call, "confirmation")

    submission = Submission.objects.get()
    assert submission.state == Submission.State.SUBMITTED
    assert submission.is_late  # the seeded call closed in 2018 and accepts late evidence
    assert re.fullmatch(f"[{REFERENCE_ALPHABET}]{{8}}", submission.reference)
    assert submission.name == "Jane Smith"
    assert submission.orcid == "0000-0002-1825-0097"
    assert submission.links == ["https://example.org/report", "http://example.org/slides"]
    first_question = seeded_call.questions.first()
    assert submission.answers == {
        str(first_question.pk): "We ran a Twitter chat with patients.\nIt worked well."
    }

    confirmation = client.get(url(seeded_call, "confirmation")).content.decode()
    assert submission.reference in confirmation
    assert "What happens next" in confirmation
    assert "marked as late" in confirmation

    assert mail.outbox == []  # the request never sends: the worker does
    run_worker()
    # The receipt only: the seeded call tells no staff member until a call manager sets one.
    assert [m.to for m in mail.outbox] == [["jane.smith@example.ac.uk"]]
    assert submission.reference in mail.outbox[0].subject


def test_staff_are_notified_of_a_new_submission(client, seeded_call):
    seeded_call.notification_emails = "reviewers@example.org\nlead@example.org"
    seeded_call.save()
    walk_to(client, seeded_call, "check")
    client.post(url(seeded_call, "check"))
    run_worker()
    assert [m.to for m in mail.outbox] == [
        ["jane.smith@example.ac.uk"],
        ["reviewers@example.org", "lead@example.org"],
    ]


def test_consent_is_recorded_with_licence_wording_hash_and_time(client, seeded_call):
    client.post(url(seeded_call, "consent"), {"consent": "yes"})
    draft = Submission.objects.get()
    assert draft.state == Submission.State.DRAFT
    assert draft.consent_licence_id == "CC-BY-NC-4.0"
    assert draft.consent_licence_version == "4.0"
    assert draft.consent_wording_version == "1"
    # The SHA-256 of the exact wording asked, as anyone can recompute it from the call.
    wording = seeded_call.consent_wording.encode("utf-8")
    assert draft.consent_wording_sha256 == hashlib.sha256(wording).hexdigest()
    assert draft.consent_given_at is not None


def test_refusing_consent_stores_nothing_and_offers_the_contact_address(client, seeded_call):
    response = client.post(url(seeded_call, "consent"), {"consent": "no"}, follow=True)
    assert Submission.objects.count() == 0
    page = response.content.decode()
    assert "You have not agreed to the licence" in page
    assert "stephanie.todd@uwe.ac.uk" in page


def test_withdrawing_consent_later_deletes_what_was_typed_once_confirmed(client, seeded_call):
    walk_to(client, seeded_call, "evidence")
    assert Submission.objects.count() == 1
    response = client.post(url(seeded_call, "consent"), {"consent": "no"})
    assert response.url == url(seeded_call, "consent") + "delete-answers/"
    assert Submission.objects.count() == 1  # kept until the person confirms
    client.post(url(seeded_call, "consent") + "delete-answers/")
    assert Submission.objects.count() == 0
    assert client.get(url(seeded_call, "about")).url == url(seeded_call, "start")


def test_every_step_shows_its_number_and_a_back_link(client, seeded_call):
    walk_to(client, seeded_call, "check")
    for number, step in enumerate(["consent", "about", "evidence", "files", "check"], start=1):
        page = client.get(url(seeded_call, step)).content.decode()
        assert f"Step {number} of 5" in page
        assert "Back</a>" in page


def test_every_page_has_a_unique_title_lang_and_skip_link(client, seeded_call):
    walk_to(client, seeded_call, "check")
    titles = set()
    for step in ["start", "consent", "about", "evidence", "files", "check"]:
        page = client.get(url(seeded_call, step)).content.decode()
        assert '<html lang="en-GB">' in page
        assert 'href="#main-content"' in page
        titles.add(re.search(r"<title>(.*?)</title>", page, re.S).group(1))
    assert len(titles) == 6


def test_radios_are_grouped_in_fieldsets_with_legends(client, seeded_call):
    consent_page = client.get(url(seeded_call, "consent")).content.decode()
    assert "<fieldset" in consent_page and "<legend" in consent_page
    walk_to(client, seeded_call, "about")
    about_page = client.get(url(seeded_call, "about")).content.decode()
    assert "<legend" in about_page and "How should we credit you in the toolkit?" in about_page


def test_a_later_step_sends_the_contributor_to_the_first_unfinished_one(client, seeded_call):
    assert client.get(url(seeded_call, "evidence")).url == url(seeded_call, "start")
    client.post(url(seeded_call, "consent"), {"consent": "yes"})
    assert client.get(url(seeded_call, "evidence")).url == url(seeded_call, "about")
    assert client.get(url(seeded_call, "check")).url == url(seeded_call, "about")
    client.post(url(seeded_call, "about"), ABOUT)
    assert client.get(url(seeded_call, "check")).url == url(seeded_call, "evidence")


def test_change_links_return_to_check_your_answers_after_saving(client, seeded_call):
    walk_to(client, seeded_call, "check")
    page = client.get(url(seeded_call, "check")).content.decode()
    assert page.count("?return_to=check") >= 10
    form = client.get(url(seeded_call, "about") + "?return_to=check").content.decode()
    assert 'name="return_to" value="check"' in form
    changed = {**ABOUT, "organisation": "UWE Bristol", "return_to": "check"}
    response = client.post(url(seeded_call, "about"), changed)
    assert response.url == url(seeded_call, "check")
    assert "Jane Smith, UWE Bristol" in client.get(url(seeded_call, "check")).content.decode()


def test_the_about_page_previews_the_credit_line(client, seeded_call):
    walk_to(client, seeded_call, "check")
    page = client.get(url(seeded_call, "about")).content.decode()
    assert "Jane Smith, University of Bristol" in page
    organisation_only = {**ABOUT, "credit_preference": "organisation_only"}
    client.post(url(seeded_call, "about"), organisation_only)
    check = client.get(url(seeded_call, "check")).content.decode()
    assert re.search(r"Credit line in the toolkit</dt>\s*<dd[^>]*>University of Bristol<", check)


def test_not_credited_publicly_gives_no_credit_line(client, seeded_call):
    walk_to(client, seeded_call, "check")
    client.post(url(seeded_call, "about"), {**ABOUT, "credit_preference": "none"})
    assert Submission.objects.get().credit_line() == ""
    check = client.get(url(seeded_call, "check")).content.decode()
    assert re.search(r"Credit line in the toolkit</dt>\s*<dd[^>]*>Not credited publicly<", check)


def test_a_draft_survives_and_is_found_again_from_the_session(client, seeded_call):
    walk_to(client, seeded_call, "evidence")
    page = client.get(url(seeded_call, "about")).content.decode()
    assert 'value="Jane Smith"' in page
    draft = Submission.objects.get()
    assert draft.token not in page  # the token stays server-side


def test_the_evidence_step_shows_each_questions_maximum_length(client, seeded_call):
    walk_to(client, seeded_call, "evidence")
    page = client.get(url(seeded_call, "evidence")).content.decode()
    assert page.count("You can enter up to 5,000 characters.") == 4
    # No browser limit that cuts typing silently; the live count reads data-maxlength.
    assert "maxlength=" not in page.replace("data-maxlength=", "")
    assert page.count('data-maxlength="5000"') == 4


def test_the_health_check_answers_without_a_session(client, db):
    response = client.get("/healthz")
    assert response.content == b"ok"
    assert "sessionid" not in response.cookies


def test_the_root_lists_the_calls_when_several_are_open(client, seeded_call):
    from ..factories import make_call

    other = make_call(title="What Works: Podcasts")
    page = client.get("/").content.decode()
    assert "What Works: Social Media</a>" in page
    assert f'href="/{other.slug}/"' in page

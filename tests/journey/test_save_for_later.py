"""Save and come back later is never refused: from an empty page, or with an answer invalid.

What is valid is saved; an invalid answer is not, and is shown at its field with the text as
typed, with "Save the rest and get a link" beside the buttons; then the link is sent.
"""

import re

import pytest
from django.core import mail
from django.test import Client

from submissions.models import OutgoingEmail, Submission

from .. import samples
from ..contributor import ABOUT, evidence_data, url, walk_to
from ..files import BOUNDARY, multipart, upload
from ..worker import run_worker

pytestmark = pytest.mark.django_db
SAVE = {"save_for_later": "1"}
WITHOUT_INVALID = {"save_for_later": "without_invalid"}
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
LINK = re.compile(r"https?://[^/\s]+(/[\w-]+/return/[\w-]+/)")


def saved_page(client: Client, call, response) -> str:
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response.url == f"/{call.slug}/save/"
    return client.get(response.url).content.decode()


def link_sent_to(client: Client, call, address: str) -> str:
    """Ask for the link on the save page, run the worker, and return the emailed path."""
    asked = client.post(f"/{call.slug}/save/", {"email": address})
    assert asked.url == f"/{call.slug}/save/sent/", asked.content.decode()[:3000]
    run_worker()
    (message,) = [m for m in mail.outbox if m.to == [address]]
    return LINK.search(message.body).group(1)


def empty_evidence(call) -> dict[str, str]:
    return evidence_data(call, links="") | {f"answer_{q.pk}": "" for q in call.questions.all()}


@pytest.mark.parametrize("step", ["about", "evidence", "files"])
def test_from_an_empty_page_the_draft_is_saved_and_the_link_sent(client, seeded_call, step):
    walk_to(client, seeded_call, step)
    before = Submission.objects.get()
    empty = {
        "about": {},
        "evidence": empty_evidence(seeded_call),
        "files": {"action": "continue"},
    }[step]

    page = saved_page(client, seeded_call, client.post(url(seeded_call, step), {**empty, **SAVE}))

    assert "Send me a link" in page
    # Nothing that was saved is lost: an empty box never empties a finished step.
    after = Submission.objects.get()
    for column in ("name", "email", "role", "credit_preference", "answers", "links"):
        assert getattr(after, column) == getattr(before, column), column
    path = link_sent_to(client, seeded_call, "jane.later@example.org")
    other = Client()
    assert other.get(path).url == f"/{seeded_call.slug}/return/"  # asks first
    opened = other.post(f"/{seeded_call.slug}/return/")  # "Continue in this browser"
    assert opened.status_code == 302
    # The first unfinished step, as it was (files are optional: then, check your answers).
    assert opened.url == url(seeded_call, "check" if step == "files" else step)


def test_your_evidence_with_nothing_typed_yet_saves_and_asks_where_to_send_the_link(
    client, seeded_call
):
    # The case: "Answer at least one question" answered the person who wants to stop.
    walk_to(client, seeded_call, "evidence")
    response = client.post(url(seeded_call, "evidence"), {**empty_evidence(seeded_call), **SAVE})
    page = saved_page(client, seeded_call, response)
    assert "Answer at least one question" not in page
    assert f'value="{ABOUT["email"]}"' in page
    assert OutgoingEmail.objects.count() == 0
    link_sent_to(client, seeded_call, ABOUT["email"])
    assert OutgoingEmail.objects.get().state == "sent"


def test_about_you_keeps_the_valid_details_and_shows_the_bad_address_at_its_field(
    client, seeded_call
):
    walk_to(client, seeded_call, "about")
    typed = {"name": "Jane Smith", "email": "jane at example", "role": "", "orcid": ""}

    response = client.post(url(seeded_call, "about"), {**typed, **SAVE})

    assert response.status_code == 200
    page = response.content.decode()
    assert page.startswith("<!doctype html>") and "<title>Error: About you" in page
    assert page.count("Enter an email address in the correct format") == 2  # summary, field
    assert "Enter your full name" not in page and "Enter your role" not in page
    assert 'value="jane at example"' in page  # as typed, to correct
    assert "The rest of this page has been saved" in page
    assert 'value="without_invalid"' in page
    draft = Submission.objects.get()
    assert (draft.name, draft.email, draft.role) == ("Jane Smith", "", "")

    # Corrected and saved again: on to the link.
    corrected = client.post(
        url(seeded_call, "about"), {**typed, "email": "jane@example.org", **SAVE}
    )
    saved_page(client, seeded_call, corrected)
    assert Submission.objects.get().email == "jane@example.org"


def test_save_the_rest_and_get_a_link_goes_on_without_the_invalid_answer(client, seeded_call):
    walk_to(client, seeded_call, "about")
    typed = {"name": "Jane Smith", "email": "jane at example", "orcid": "0000-0002-1825-0098"}
    client.post(url(seeded_call, "about"), {**typed, **SAVE})

    response = client.post(url(seeded_call, "about"), {**typed, **WITHOUT_INVALID})

    page = saved_page(client, seeded_call, response)
    email_box = re.search(r'<input type="email" name="email"[^>]*>', page).group(0)
    assert "value=" not in email_box  # no address was saved to offer
    draft = Submission.objects.get()
    assert (draft.name, draft.email, draft.orcid) == ("Jane Smith", "", "")
    link_sent_to(client, seeded_call, "jane@example.org")


def test_crediting_the_organisation_without_one_saves_neither_choice(client, seeded_call):
    walk_to(client, seeded_call, "about")
    typed = {"name": "Jane Smith", "credit_preference": "organisation_only", "organisation": ""}

    response = client.post(url(seeded_call, "about"), {**typed, **SAVE})

    assert "Enter your organisation, or choose another way to be credited" in response.text
    draft = Submission.objects.get()
    assert (draft.name, draft.credit_preference, draft.organisation) == ("Jane Smith", "", "")


def test_an_organisation_emptied_under_an_organisation_only_credit_is_not_saved(
    client, seeded_call
):
    walk_to(client, seeded_call, "evidence")
    Submission.objects.update(credit_preference="organisation_only")
    forged = {**ABOUT, "organisation": "", "credit_preference": "\x07"}

    response = client.post(url(seeded_call, "about"), {**forged, **WITHOUT_INVALID})

    saved_page(client, seeded_call, response)
    draft = Submission.objects.get()
    assert (draft.credit_preference, draft.organisation) == (
        "organisation_only",
        ABOUT["organisation"],
    )


def test_a_co_contributor_without_a_name_leaves_the_co_contributors_as_they_were(
    client, seeded_call
):
    walk_to(client, seeded_call, "about")
    typed = {"name": "Jane Smith", "co_1_organisation": "UWE Bristol"}

    response = client.post(url(seeded_call, "about"), {**typed, **SAVE})

    assert "Enter the full name of co-contributor 1" in response.text
    assert Submission.objects.get().co_contributors == []
    assert Submission.objects.get().name == "Jane Smith"


def test_a_finished_about_you_emptied_and_saved_for_later_stays_finished(client, seeded_call):
    walk_to(client, seeded_call, "evidence")
    emptied = {**ABOUT, "name": "", "role": "", "credit_preference": "", "orcid": ""}

    response = client.post(url(seeded_call, "about"), {**emptied, **SAVE})

    saved_page(client, seeded_call, response)
    draft = Submission.objects.get()
    # The optional ORCID iD was emptied; the required boxes keep what was saved.
    assert (draft.name, draft.role, draft.credit_preference, draft.orcid) == (
        ABOUT["name"],
        ABOUT["role"],
        ABOUT["credit_preference"],
        "",
    )


def test_your_evidence_saves_the_valid_answer_and_keeps_the_too_long_one_on_the_page(
    client, seeded_call
):
    walk_to(client, seeded_call, "evidence")
    first, second = seeded_call.questions.all()[:2]
    long = "Our festival blog. " * 400  # over the 5,000 characters
    typed = evidence_data(
        seeded_call,
        **{f"answer_{first.pk}": "Live-tweeted lab days.", f"answer_{second.pk}": long},
        links="https://example.org/report\nnot a link",
    )

    response = client.post(url(seeded_call, "evidence"), {**typed, **SAVE})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Answer 2 must be 5,000 characters or fewer" in page
    assert "Enter each link as a web address" in page
    assert long.strip() in page  # as typed, not lost
    draft = Submission.objects.get()
    assert draft.answers == {str(first.pk): "Live-tweeted lab days."}
    assert draft.links == []

    response = client.post(url(seeded_call, "evidence"), {**typed, **WITHOUT_INVALID})
    saved_page(client, seeded_call, response)
    assert Submission.objects.get().answers == {str(first.pk): "Live-tweeted lab days."}
    link_sent_to(client, seeded_call, ABOUT["email"])


def test_your_files_adds_the_good_file_and_refuses_the_program_at_the_field(client, seeded_call):
    walk_to(client, seeded_call, "files")
    files = [("Report.pdf", samples.PDF), ("setup.pdf", samples.EXE)]

    response = upload(client, seeded_call, files, action="continue")
    assert response.status_code == 200  # without saving for later: all or none
    assert not Submission.objects.get().attachments.exists()

    body_fields = {"action": "continue", "save_for_later": "1"}
    response = client.post(
        url(seeded_call, "files"),
        multipart(files, **body_fields),
        content_type=CONTENT_TYPE,
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "“setup.pdf” is a program or script" in page
    assert "No files were added" not in page
    assert "Report.pdf" in page and "The rest of this page has been saved" in page
    draft = Submission.objects.get()
    assert list(draft.attachments.values_list("original_name", flat=True)) == ["Report.pdf"]

    response = client.post(url(seeded_call, "files"), {"action": "continue", **WITHOUT_INVALID})
    saved_page(client, seeded_call, response)
    link_sent_to(client, seeded_call, ABOUT["email"])


def test_too_many_files_adds_none_and_still_lets_the_person_go(client, seeded_call):
    walk_to(client, seeded_call, "files")
    files = [(f"note-{n}.txt", samples.TXT + b"%d" % n) for n in range(6)]

    response = client.post(
        url(seeded_call, "files"),
        multipart(files, action="continue", save_for_later="1"),
        content_type=CONTENT_TYPE,
    )

    assert "You can add up to 5 files" in response.content.decode()
    assert not Submission.objects.get().attachments.exists()
    response = client.post(url(seeded_call, "files"), {"action": "continue", **WITHOUT_INVALID})
    saved_page(client, seeded_call, response)

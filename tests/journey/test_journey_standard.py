"""The journey at the standard of GOV.UK's best services: what the contributor sees (issue 12).

The browser checks (axe, keyboard, 320 px, focus, screenshots) are in tests/test_browser_a11y.py.
"""

import re

import pytest
from django.test import override_settings

from submissions.models import Submission

from ..contributor import ABOUT, url, walk_to

pytestmark = pytest.mark.django_db
DASH = "\N{EN DASH}"


def main_of(page: str) -> str:
    return re.search(r"<main.*?</main>", page, re.S).group(0)


# 1. One click never deletes a draft.


def test_no_from_check_your_answers_asks_first_and_keeps_the_draft(client, seeded_call):
    walk_to(client, seeded_call, "check")
    response = client.post(
        url(seeded_call, "consent"), {"consent": "no", "return_to": "check"}, follow=True
    )
    page = response.content.decode()
    assert "This will delete your answers" in page
    assert '<button type="submit" class="btn btn-danger">Yes, delete my answers</button>' in page
    keep = f'href="{url(seeded_call, "check")}?return_to=check"'
    assert keep in page and "No, keep my answers and return to check your answers" in page
    draft = Submission.objects.get()
    assert draft.name == "Jane Smith" and draft.answers

    # "No, keep my answers" leads back with everything as it was.
    check = client.get(url(seeded_call, "check")).content.decode()
    assert "Jane Smith, University of Bristol" in check


def test_the_draft_is_deleted_only_when_the_person_confirms(client, seeded_call):
    walk_to(client, seeded_call, "check")
    client.post(url(seeded_call, "consent"), {"consent": "no", "return_to": "check"})
    assert Submission.objects.count() == 1
    response = client.post(url(seeded_call, "consent") + "delete-answers/", follow=True)
    assert "You have not agreed to the licence" in response.content.decode()
    assert Submission.objects.count() == 0


def test_no_before_anything_was_typed_needs_no_confirmation(client, seeded_call):
    client.post(url(seeded_call, "consent"), {"consent": "yes"})
    response = client.post(url(seeded_call, "consent"), {"consent": "no"})
    assert response.url == url(seeded_call, "declined")
    assert Submission.objects.count() == 0


def test_the_delete_page_without_a_draft_goes_to_the_start(client, seeded_call):
    response = client.get(url(seeded_call, "consent") + "delete-answers/")
    assert response.url == url(seeded_call, "start")
    assert client.post(url(seeded_call, "consent") + "delete-answers/").status_code == 302


# 3. The start page.


def test_the_start_page_says_what_the_service_is_for_and_starts_before_the_findings(
    client, seeded_call
):
    page = main_of(client.get(url(seeded_call, "start")).content.decode())
    assert "Use this service to send NCCPE your evidence" in page
    assert "It takes about 15 minutes" in page
    start = page.index("Start now")
    assert page.index("Tuesday 6 March 2018, 11:59pm UK time") < start
    assert start < page.index("What we found") < page.index("peer-to-peer networking")
    assert start < page.index("What we are asking")


# 4. Who runs this.


def test_header_titles_and_footer_say_who_runs_the_service(client, seeded_call):
    walk_to(client, seeded_call, "about")
    page = client.get(url(seeded_call, "about")).content.decode()
    assert f"<title>About you {DASH} What Works: Social Media {DASH} NCCPE</title>" in page
    header = re.search(r"<header.*?</header>", page, re.S).group(0)
    assert '<span class="site-organisation">NCCPE</span>' in header
    assert "What Works: Social Media</a>" in header
    footer = re.search(r"<footer.*?</footer>", page, re.S).group(0)
    assert 'href="mailto:stephanie.todd@uwe.ac.uk"' in footer
    for href, text in [
        ("/privacy/", "Privacy notice"),
        ("/cookies/", "Cookies"),
        ("/accessibility/", "Accessibility statement"),
    ]:
        assert f'<a href="{href}">{text}</a>' in footer
    assert "the contact address on the call's start page" not in page


def test_an_error_title_names_the_page_once(client, seeded_call):
    walk_to(client, seeded_call, "about")
    page = client.post(url(seeded_call, "about"), {}).content.decode()
    assert f"<title>Error: About you {DASH} What Works: Social Media {DASH} NCCPE</title>" in page


@override_settings(ORGANISATION_NAME="Wellcome Trust", CONTACT_EMAIL="help@example.org")
def test_the_organisation_and_site_contact_are_settings(client, seeded_call):
    page = client.get("/accessibility/").content.decode()
    assert f"<title>Accessibility statement {DASH} Wellcome Trust</title>" in page
    assert '<span class="site-organisation">Wellcome Trust</span>' in page
    assert 'href="mailto:help@example.org"' in page


def test_a_page_of_no_call_gives_the_open_calls_contact(client, seeded_call):
    page = client.get("/cookies/").content.decode()
    assert 'href="mailto:stephanie.todd@uwe.ac.uk"' in page


# 5. Accessibility statement, cookies, privacy.


def test_the_accessibility_statement_has_the_standard_sections(client, seeded_call):
    page = client.get("/accessibility/").content.decode()
    for heading in [
        "Accessibility statement",
        "Feedback and contact information",
        "Reporting accessibility problems with this website",
        "Enforcement procedure",
        "Compliance status",
        "Non-accessible content",
        "Preparation of this accessibility statement",
    ]:
        assert f">{heading}</h" in page, heading
    assert "partially compliant" in page
    assert "Equality and Human Rights Commission" in page
    assert "axe-core" in page  # how it was tested


def test_the_cookies_page_lists_the_session_and_csrf_cookies_as_strictly_necessary(
    client, seeded_call
):
    page = client.get("/cookies/").content.decode()
    assert "Strictly necessary cookies" in page
    assert "<code>sessionid</code>" in page and "<code>csrftoken</code>" in page
    assert "30 days" in page
    assert "analytics" in page  # says there are none


def test_the_privacy_page_gives_the_calls_privacy_notice(client, seeded_call):
    page = client.get("/privacy/").content.decode()
    assert "Your email address is never published" in page
    assert "stephanie.todd@uwe.ac.uk" in page


# 7. Question pages.


def test_the_licence_question_is_a_short_legend_with_the_exact_wording_in_its_hint(
    client, seeded_call
):
    page = main_of(client.get(url(seeded_call, "consent")).content.decode())
    legend = re.search(r"<legend.*?</legend>", page, re.S).group(0)
    assert re.search(r"<h1[^>]*>Do you agree to the licence\?</h1>", legend)
    # The exact wording whose hash is kept with the consent, in the hint the radios point to.
    fieldset = re.search(r"<fieldset[^>]*>", page).group(0)
    assert 'aria-describedby="id_consent_helptext"' in fieldset
    hint = page.split('id="id_consent_helptext"')[1].split("</div>")[0]
    assert f'<p class="consent-wording">{seeded_call.consent_wording}</p>' in hint
    assert page.count(seeded_call.licence_name) == 1
    assert f'href="{seeded_call.licence_url}"' in page


def test_an_error_sits_between_the_hint_and_the_input(client, seeded_call):
    walk_to(client, seeded_call, "about")
    page = client.post(url(seeded_call, "about"), {**ABOUT, "email": "x"}).content.decode()
    label = page.index('<label for="id_email"')
    hint = page.index('id="id_email_helptext"')
    error = page.index('id="id_email_error"')
    field = page.index('<input type="email" name="email"')
    assert label < hint < error < field
    tag = re.search(r'<input type="email" name="email"[^>]*>', page).group(0)
    assert 'aria-describedby="id_email_helptext id_email_error"' in tag
    assert 'aria-invalid="true"' in tag


def test_change_links_land_on_the_field_and_lead_back_to_check(client, seeded_call):
    walk_to(client, seeded_call, "check")
    check = client.get(url(seeded_call, "check")).content.decode()
    question = seeded_call.questions.first()
    for target in [
        "licence/?return_to=check#id_consent",
        "about-you/?return_to=check#id_name",
        "about-you/?return_to=check#id_organisation",
        "about-you/?return_to=check#id_credit_preference",
        f"evidence/?return_to=check#id_answer_{question.pk}",
        "evidence/?return_to=check#id_links",
        "files/?return_to=check#id_files",
    ]:
        assert f'href="/{seeded_call.slug}/{target}"' in check, target
    for step in ["consent", "about", "evidence", "files"]:
        page = client.get(url(seeded_call, step) + "?return_to=check").content.decode()
        assert f'<a href="{url(seeded_call, "check")}" class="back-link">Back' in page, step
        assert "Save and return to check your answers</button>" in page, step
        plain = client.get(url(seeded_call, step)).content.decode()
        assert "Save and return" not in plain and ">Continue</button>" in plain, step


def test_the_id_of_every_change_link_exists_on_its_page(client, seeded_call):
    walk_to(client, seeded_call, "check")
    check = client.get(url(seeded_call, "check")).content.decode()
    for path, anchor in re.findall(r'href="([^"#]+)\?return_to=check#([^"]+)"', check):
        page = client.get(f"{path}?return_to=check").content.decode()
        assert f'id="{anchor}"' in page, (path, anchor)


# 8. Links, organisation and credit.


def test_links_without_a_scheme_are_taken_like_the_website(client, seeded_call):
    walk_to(client, seeded_call, "evidence")
    question = seeded_call.questions.first()
    data = {
        f"answer_{question.pk}": "An answer.",
        "links": "www.example.org/toolkit\ntwitter.com/x",
    }
    assert client.post(url(seeded_call, "evidence"), data).status_code == 302
    assert Submission.objects.get().links == [
        "https://www.example.org/toolkit",
        "https://twitter.com/x",
    ]


def test_an_independent_researcher_leaves_the_organisation_blank(client, seeded_call):
    walk_to(client, seeded_call, "about")
    response = client.post(url(seeded_call, "about"), {**ABOUT, "organisation": ""})
    assert response.url == url(seeded_call, "evidence")
    assert Submission.objects.get().credit_line() == "Jane Smith"
    page = client.get(url(seeded_call, "about")).content.decode()
    assert "Organisation (optional)" in page
    previews = dict(re.findall(r'<strong data-credit-preview="(\w+)"[^>]*>([^<]*)</strong>', page))
    assert previews == {
        "name_and_organisation": "Jane Smith",
        "organisation_only": "no credit line (enter your organisation)",
    }


def test_credit_by_organisation_only_needs_an_organisation(client, seeded_call):
    walk_to(client, seeded_call, "about")
    data = {**ABOUT, "organisation": "", "credit_preference": "organisation_only"}
    page = client.post(url(seeded_call, "about"), data).content.decode()
    assert page.count("Enter your organisation, or choose another way to be credited") == 2
    assert 'href="#id_organisation"' in page


# 9. Returning.


def test_a_browser_holding_a_draft_is_offered_to_continue_it(client, seeded_call):
    walk_to(client, seeded_call, "evidence")
    page = main_of(client.get(url(seeded_call, "start")).content.decode())
    assert "Continue your evidence</a>" in page
    assert f'href="{url(seeded_call, "evidence")}"' in page
    assert "Start now" not in page


def test_after_submitting_the_start_page_offers_a_new_start(client, seeded_call):
    walk_to(client, seeded_call, "check")
    client.post(url(seeded_call, "check"))
    page = main_of(client.get(url(seeded_call, "start")).content.decode())
    assert "Start now" in page and "Continue your evidence" not in page


def test_the_confirmation_gives_the_calls_own_timeline(client, seeded_call):
    walk_to(client, seeded_call, "check")
    client.post(url(seeded_call, "check"))
    page = client.get(url(seeded_call, "confirmation")).content.decode()
    assert "What happens next" in page
    assert (
        "synthesise the learning from the contributions during the &#x27;What Works&#x27;" in page
    )
    seeded_call.next_steps = "- Panel meets in May.\n- Toolkit out in June."
    seeded_call.save()
    page = client.get(url(seeded_call, "confirmation")).content.decode()
    assert "<li>Panel meets in May.</li>" in page and "synthesise" not in page

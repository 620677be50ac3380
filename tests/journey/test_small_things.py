"""Small things that cost contributors time (issue 24 item 6), through the test client.

What needs a browser (the live credit line, "Add another" with JavaScript, the licence radios on
a phone) is in tests/journey/test_browser_small_things.py.
"""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from submissions.models import ContributorLink, ReviewChange, Submission
from submissions.models.links import status_link_url

from ..contributor import ABOUT, url, walk_to
from ..factories import make_call, make_submission

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def main_of(page: str) -> str:
    return page.split('<main id="main-content"')[1].split("</main>")[0]


# The list of calls, and the footer's contact.


def test_with_two_calls_the_home_page_says_which_is_open_with_its_deadline(client, seeded_call):
    podcasts = make_call(
        title="What Works: Podcasts",
        summary="We want to hear about podcasts. More detail follows here.",
        contact_email="podcasts@example.org",
        closes_at=datetime(2030, 3, 6, 23, 59, tzinfo=LONDON),
    )

    page = client.get("/").text
    main = main_of(page)

    open_part, late_part = main.split("Closed, still taking late evidence")
    assert "Open calls" in open_part and "What Works: Podcasts" in open_part
    assert "What Works: Social Media" in late_part  # the 2018 call, past its deadline
    assert "Wednesday 6 March 2030, 11:59pm UK time" in open_part
    assert "Tuesday 6 March 2018, 11:59pm UK time" in late_part
    assert "<p>We want to hear about podcasts.</p>" in open_part  # its first sentence
    assert 'href="mailto:podcasts@example.org"' in open_part
    assert f'href="mailto:{seeded_call.contact_email}"' in late_part
    # The footer speaks for the service, not for one of the calls.
    footer = page.split('<footer class="site-footer')[1]
    assert "podcasts@example.org" not in footer
    assert seeded_call.contact_email not in footer
    assert podcasts.slug in main


def test_with_one_call_pages_of_no_call_still_give_its_contact(client, seeded_call):
    footer = client.get("/cookies/").text.split('<footer class="site-footer')[1]

    assert f'href="mailto:{seeded_call.contact_email}"' in footer


# The web profile.


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("@jane@mastodon.social", "https://mastodon.social/@jane"),
        ("bsky.app/profile/jane.bsky.social", "https://bsky.app/profile/jane.bsky.social"),
    ],
)
def test_a_profile_is_a_web_address_or_a_mastodon_handle(client, seeded_call, typed, stored):
    walk_to(client, seeded_call, "about")

    response = client.post(url(seeded_call, "about"), {**ABOUT, "website": typed})

    assert response.status_code == 302
    assert Submission.objects.get().website == stored


def test_a_bare_handle_gets_a_message_that_says_what_is_needed(client, seeded_call):
    walk_to(client, seeded_call, "about")

    response = client.post(url(seeded_call, "about"), {**ABOUT, "website": "@janesmith"})

    [error] = response.context["form"].errors.as_data()["website"]
    assert error.code == "handle_without_network"
    assert "Enter the full web address of your profile, like https://x.com/janesmith" in (
        response.text
    )


def test_the_hint_says_a_full_address_is_needed(client, seeded_call):
    walk_to(client, seeded_call, "about")

    page = client.get(url(seeded_call, "about")).text

    hint = page.split('id="id_website_helptext"')[1].split("</div>")[0]
    assert "The full web address of the page" in hint
    assert "@jane@mastodon.social" in hint


# Buttons that look like buttons.


def test_secondary_buttons_use_the_govuk_secondary_style(client, seeded_call):
    walk_to(client, seeded_call, "files")

    page = client.get(url(seeded_call, "files")).text

    assert re.search(r'class="btn btn-govuk-secondary[^"]*">Save and come back later', page)
    assert re.search(r'class="btn btn-govuk-secondary[^"]*">Add files', page)
    assert "btn-outline-secondary" not in page


# A resumed draft.


def test_a_resumed_draft_says_the_answers_were_restored_once(seeded_call):
    walk_to(Client(), seeded_call, "evidence")
    token = ContributorLink.issue(Submission.objects.get(), ContributorLink.Purpose.RESUME)
    browser = Client()

    asked = browser.get(f"/{seeded_call.slug}/return/{token}/", follow=True)
    assert "have been restored" not in asked.text  # the link only asks, at first
    opened = browser.post(f"/{seeded_call.slug}/return/", follow=True)

    assert "Your answers have been restored. Carry on where you left off." in opened.text
    assert 'class="notification-banner" role="status"' in opened.text
    assert "have been restored" not in browser.get(url(seeded_call, "evidence")).text


# Co-contributors, one at a time.


def test_the_about_page_shows_one_co_contributor_row_at_first(client, seeded_call):
    walk_to(client, seeded_call, "about")

    page = client.get(url(seeded_call, "about")).text

    assert '<fieldset class="co-contributor mb-3" id="co-contributor-1">' in page
    for number in range(2, 6):
        assert f'id="co-contributor-{number}" hidden>' in page
    assert 'name="add_co_contributor" value="2"' in page


def test_add_another_without_javascript_saves_and_shows_one_more_row(client, seeded_call):
    walk_to(client, seeded_call, "about")
    data = {**ABOUT, "co_1_name": "Ahmed Khan", "add_co_contributor": "2"}

    response = client.post(url(seeded_call, "about"), data)

    assert response.status_code == 302
    assert response.url == f"{url(seeded_call, 'about')}?co=2#co-contributor-2"
    assert Submission.objects.get().co_contributors[0]["name"] == "Ahmed Khan"
    page = client.get(response.url).text
    assert '<details class="co-contributors mb-4" id="co-contributors" open>' in page
    assert 'id="co-contributor-2">' in page and 'id="co-contributor-3" hidden>' in page
    assert 'value="Ahmed Khan"' in page
    assert 'name="add_co_contributor" value="3"' in page


def test_add_another_is_never_refused_for_an_answer_not_given_yet(client, seeded_call):
    client.post(url(seeded_call, "consent"), {"consent": "yes"})
    data = {"name": "Jane Smith", "co_1_name": "Ahmed Khan", "add_co_contributor": "2"}

    response = client.post(url(seeded_call, "about"), data)

    # As "Save and come back later": what is valid is saved; no role or email is asked for yet.
    assert response.status_code == 302
    saved = Submission.objects.get()
    assert (saved.name, saved.co_contributors[0]["name"]) == ("Jane Smith", "Ahmed Khan")


def test_add_another_with_a_mistake_keeps_what_was_typed_and_says_so(client, seeded_call):
    walk_to(client, seeded_call, "about")
    client.post(url(seeded_call, "about"), ABOUT)
    data = {**ABOUT, "email": "jane at example", "co_1_name": "Ahmed Khan"}

    response = client.post(url(seeded_call, "about"), {**data, "add_co_contributor": "2"})

    assert response.status_code == 200
    assert "Enter an email address in the correct format" in response.text
    assert 'id="co-contributor-2">' in response.text  # the row asked for, all the same
    assert 'value="jane at example"' in response.text
    saved = Submission.objects.get()
    assert saved.co_contributors[0]["name"] == "Ahmed Khan"  # the valid part is saved
    assert saved.email == ABOUT["email"]  # the mistake is not


def test_all_five_rows_shown_leave_no_add_another(client, seeded_call):
    walk_to(client, seeded_call, "about")

    page = client.get(url(seeded_call, "about") + "?co=5").text

    assert all(f'id="co-contributor-{n}">' in page for n in range(1, 6))
    assert not re.search(r'id="co-contributor-\d" hidden>', page)
    assert 'id="add-co-contributor" hidden>' in page


def test_enter_in_a_text_box_continues_rather_than_adding_a_row(client, seeded_call):
    walk_to(client, seeded_call, "about")

    page = client.get(url(seeded_call, "about")).text

    form = page.split('<form method="post" novalidate>')[1]
    first_button = re.search(r"<button[^>]*>[^<]*</button>", form).group(0)
    assert 'type="submit"' in first_button and ">Continue</button>" in first_button
    assert 'name="add_co_contributor"' not in first_button


def test_the_status_page_corrects_co_contributors_and_keeps_the_history(client):
    submission = make_submission(make_call(), name="Ada Lovelace", organisation="Engines")
    client.get(status_link_url(submission).split("8000")[1], follow=True)
    status = f"/{submission.call.slug}/status/"
    data = {
        "action": "credit",
        "credit-name": "Ada Lovelace",
        "credit-organisation": "Engines",
        "credit-orcid": "",
        "credit-credit_preference": "name_and_organisation",
        "credit-co_1_name": "Charles Babbage",
        "credit-co_1_organisation": "Cambridge",
        "add_co_contributor": "2",
    }

    response = client.post(status, data)

    assert response.url == f"{status}?co=2#co-contributor-2"
    submission.refresh_from_db()
    assert submission.co_contributors == [
        {"name": "Charles Babbage", "organisation": "Cambridge", "orcid": ""}
    ]
    assert submission.credit_line() == "Ada Lovelace, Engines; Charles Babbage, Cambridge"
    change = ReviewChange.objects.get(submission=submission)
    assert (change.field, change.old_value, change.new_value) == (
        "co_contributors",
        "",
        "Charles Babbage (Cambridge)",
    )
    page = client.get(response.url).text
    assert 'id="co-contributor-2">' in page and 'value="Charles Babbage"' in page


# The confirmation.


def test_the_confirmation_says_what_the_status_link_does_and_warns_about_sharing_it(
    client, seeded_call
):
    walk_to(client, seeded_call, "check")
    client.post(url(seeded_call, "check"))

    page = main_of(client.get(url(seeded_call, "confirmation")).text)

    assert "correct how you are credited, or ask for it to be withdrawn" in page
    assert "Anyone who has that link can do the same" in page
    assert "To change or withdraw your evidence, email" not in page
    assert f'href="/{seeded_call.slug}/status/new-link/"' in page

"""Bad input gets a clear message at the field, keeps every other value, and never a 500."""

import pytest
from django.test import Client

from submissions.journey.forms import normalise_orcid, orcid_check_digit
from submissions.models import Submission

from ..contributor import ABOUT, evidence_data, url, walk_to

pytestmark = pytest.mark.django_db


def post_about(client, call, **changes):
    walk_to(client, call, "about")
    return client.post(url(call, "about"), {**ABOUT, **changes})


def assert_error(response, message: str, field_id: str) -> str:
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count(message) == 2, page  # once in the summary, once at the field
    assert f'href="#{field_id}"' in page
    assert "<title>Error: " in page
    assert "There is a problem" in page
    return page


def test_missing_consent_answer_is_an_error_at_the_field(client, seeded_call):
    response = client.post(url(seeded_call, "consent"), {})
    assert_error(
        response,
        "Select yes if you are happy for your evidence to be shared under this licence",
        "id_consent_0",
    )
    assert Submission.objects.count() == 0


def test_a_forged_consent_value_is_refused(client, seeded_call):
    response = client.post(url(seeded_call, "consent"), {"consent": "maybe"})
    assert_error(response, "Select yes or no", "id_consent_0")


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("name", "Enter your full name"),
        ("email", "Enter your email address"),
        ("role", "Enter your role or job title"),
    ],
)
def test_empty_required_fields_are_named_and_other_values_kept(client, seeded_call, field, message):
    response = post_about(client, seeded_call, **{field: ""})
    page = assert_error(response, message, f"id_{field}")
    kept = next(name for name in ("name", "role") if name != field)
    assert f'value="{ABOUT[kept]}"' in page


def test_a_missing_credit_preference_is_named(client, seeded_call):
    data = {**ABOUT}
    del data["credit_preference"]
    walk_to(client, seeded_call, "about")
    response = client.post(url(seeded_call, "about"), data)
    assert_error(response, "Select how you would like to be credited", "id_credit_preference_0")


def test_an_invalid_email_is_refused(client, seeded_call):
    response = post_about(client, seeded_call, email="jane at example")
    assert_error(
        response, "Enter an email address in the correct format, like name@example.org", "id_email"
    )


def test_an_orcid_with_a_wrong_check_digit_is_refused(client, seeded_call):
    response = post_about(client, seeded_call, orcid="0000-0002-1825-0098")
    page = assert_error(response, "this one has a mistake in it", "id_orcid")
    assert 'value="0000-0002-1825-0098"' in page


def test_a_malformed_orcid_is_refused(client, seeded_call):
    response = post_about(client, seeded_call, orcid="12345")
    assert_error(response, "Enter your ORCID iD in the format 0000-0002-1825-0097", "id_orcid")


def test_orcid_check_digits_follow_iso_7064():
    assert orcid_check_digit("000000021825009") == "7"
    assert orcid_check_digit("000000021694233") == "X"
    assert normalise_orcid("https://orcid.org/0000-0002-1694-233x") == "0000-0002-1694-233X"
    assert normalise_orcid("0000000218250097") == "0000-0002-1825-0097"


def test_an_orcid_url_is_accepted_and_stored_as_the_bare_id(client, seeded_call):
    post_about(client, seeded_call, orcid="https://orcid.org/0000-0002-1825-0097")
    assert Submission.objects.get().orcid == "0000-0002-1825-0097"


@pytest.mark.parametrize("website", ["javascript:alert(1)", "ftp://example.org/x", "not a url"])
def test_a_website_that_is_not_http_is_refused(client, seeded_call, website):
    response = post_about(client, seeded_call, website=website)
    assert_error(
        response,
        "Enter a web address in the correct format, like https://www.example.org",
        "id_website",
    )


def test_a_website_without_a_scheme_gets_https(client, seeded_call):
    post_about(client, seeded_call, website="www.example.org/me")
    assert Submission.objects.get().website == "https://www.example.org/me"


def test_control_characters_are_refused_at_the_field(client, seeded_call):
    response = post_about(client, seeded_call, organisation="Uni\x1bversity")
    assert_error(
        response,
        "Organisation must not contain control characters; retype it rather than pasting it",
        "id_organisation",
    )
    assert Submission.objects.get().organisation == ""


@pytest.mark.parametrize(
    "typed", ["Twitter\x80chat", "Twitter\x9fchat", "Twitter\ufdd0chat", "Twitter\U0010ffffchat"]
)
def test_c1_controls_and_noncharacters_are_refused_in_an_answer(client, seeded_call, typed):
    # Never typed by a person, and forbidden in HTML: accepted, they would be echoed raw on
    # Check your answers, the status page and the admin.
    walk_to(client, seeded_call, "evidence")
    field = f"answer_{seeded_call.questions.first().pk}"
    response = client.post(
        url(seeded_call, "evidence"), evidence_data(seeded_call, **{field: typed})
    )
    message = "Answer 1 must not contain control characters; retype it rather than pasting it"
    assert_error(response, message, f"id_{field}")
    assert Submission.objects.get().answers == {}


def test_a_null_character_is_refused_at_the_field(client, seeded_call):
    response = post_about(client, seeded_call, role="Lec\x00turer")
    assert_error(response, "Null characters are not allowed.", "id_role")


def test_a_100_kb_value_in_a_short_field_is_refused_with_a_message(client, seeded_call):
    response = post_about(client, seeded_call, name="x" * 100_000)
    page = assert_error(response, "Full name must be 200 characters or fewer", "id_name")
    assert 'value="University of Bristol"' in page


def test_an_answer_over_its_maximum_length_is_refused(client, seeded_call):
    walk_to(client, seeded_call, "evidence")
    question = seeded_call.questions.first()
    data = evidence_data(seeded_call, **{f"answer_{question.pk}": "a" * 5001})
    response = client.post(url(seeded_call, "evidence"), data)
    page = assert_error(
        response, "Answer 1 must be 5,000 characters or fewer", f"id_answer_{question.pk}"
    )
    assert "https://example.org/report" in page
    assert "a" * 5001 in page  # the text is kept, not cut


def test_line_ends_count_once_towards_the_maximum_length(client, seeded_call):
    walk_to(client, seeded_call, "evidence")
    question = seeded_call.questions.first()
    answer = "a\r\n" * 2500  # 5,000 characters as the browser counts them
    data = evidence_data(seeded_call, **{f"answer_{question.pk}": answer})
    assert client.post(url(seeded_call, "evidence"), data).status_code == 302


def test_at_least_one_answer_is_required(client, seeded_call):
    walk_to(client, seeded_call, "evidence")
    questions = list(seeded_call.questions.all())
    data = evidence_data(seeded_call, **{f"answer_{q.pk}": "  " for q in questions})
    response = client.post(url(seeded_call, "evidence"), data)
    assert_error(response, "Answer at least one question", f"id_answer_{questions[0].pk}")


def test_any_single_answer_is_enough(client, seeded_call):
    walk_to(client, seeded_call, "evidence")
    questions = list(seeded_call.questions.all())
    data = {f"answer_{q.pk}": "" for q in questions}
    data[f"answer_{questions[3].pk}"] = "We moderate replies within the hour."
    assert client.post(url(seeded_call, "evidence"), data).status_code == 302


def test_invalid_links_are_named_by_line(client, seeded_call):
    walk_to(client, seeded_call, "evidence")
    links = "https://example.org\njavascript:alert(1)\nexample.org/x\nmailto:a@example.org"
    response = client.post(url(seeded_call, "evidence"), evidence_data(seeded_call, links=links))
    page = assert_error(
        response,
        "Enter each link as a web address, like www.example.org/report "
        "(check “javascript:alert(1)”, “mailto:a@example.org”)",
        "id_links",
    )
    assert "We ran a Twitter chat with patients." in page


def test_too_many_links_are_refused(client, seeded_call):
    walk_to(client, seeded_call, "evidence")
    links = "\n".join(f"https://example.org/{n}" for n in range(21))
    response = client.post(url(seeded_call, "evidence"), evidence_data(seeded_call, links=links))
    assert_error(response, "Enter 20 links or fewer", "id_links")


def test_a_missing_csrf_token_gets_a_403_page_in_the_sites_style(seeded_call):
    client = Client(enforce_csrf_checks=True)
    response = client.post(url(seeded_call, "consent"), {"consent": "yes"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "Your session could not be checked" in page
    assert "bootstrap.min.css" in page
    assert Submission.objects.count() == 0


def test_a_forged_csrf_token_is_refused(seeded_call):
    client = Client(enforce_csrf_checks=True)
    client.get(url(seeded_call, "consent"))
    response = client.post(
        url(seeded_call, "consent"), {"consent": "yes", "csrfmiddlewaretoken": "x" * 64}
    )
    assert response.status_code == 403
    assert Submission.objects.count() == 0


def test_an_unknown_call_is_a_404_page(client, db):
    response = client.get("/no-such-call/licence/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()

"""One-line values stay on one line and show what they are: no line breaks, no invisible or
direction-changing characters, in the credit details, file names and call titles. And whatever
goes wrong with an email, the contributor sees the confirmation."""

import pytest
from django.contrib import admin
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory

from submissions.models import Call, Submission

from .. import samples
from ..contributor import ABOUT, url, walk_to
from ..factories import make_call, make_call_manager
from ..files import upload
from ..worker import run_worker

pytestmark = pytest.mark.django_db

FORBIDDEN = {
    "line feed": "\n",
    "carriage return": "\r",
    "next line": "\x85",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "left-to-right mark": "\u200e",
    "right-to-left mark": "\u200f",
    "right-to-left override": "\u202e",
    "left-to-right embedding": "\u202a",
    "first strong isolate": "\u2068",
    "Arabic letter mark": "\u061c",
    "byte-order mark": "\ufeff",
}
FIELDS = {
    "name": ("Full name", "Jane{}Smith"),
    "role": ("Role or job title", "Senior{}Lecturer"),
    "organisation": ("Organisation", "University{}of Bristol"),
    "orcid": ("ORCID iD", "0000-0002{}-1825-0097"),
    "website": ("Website or social media profile", "https://example.org/{}jane"),
}


def post_about(client: Client, call, **changes):
    walk_to(client, call, "about")
    return client.post(url(call, "about"), {**ABOUT, **changes})


def line_break(character: str) -> bool:
    return character in "\n\r\x85\u2028\u2029"


@pytest.mark.parametrize("character", FORBIDDEN.values(), ids=FORBIDDEN.keys())
@pytest.mark.parametrize("field", FIELDS)
def test_a_one_line_field_refuses_the_character_with_a_message_at_the_field(
    client, field, character
):
    call = make_call()
    label, template = FIELDS[field]
    response = post_about(client, call, **{field: template.format(character)})

    expected = (
        f"{label} must be on one line; remove the line breaks"
        if line_break(character)
        else f"{label} must not contain invisible or direction-changing characters"
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count(expected) == 2, page  # in the summary, and at the field
    assert f'href="#id_{field}"' in page
    assert Submission.objects.get().name == ""  # nothing of the step was saved


@pytest.mark.parametrize("character", ["\n", "\r\n", "\u2028"], ids=["LF", "CRLF", "LS"])
def test_an_email_address_with_a_line_break_is_refused_saying_why(client, character):
    response = post_about(client, make_call(), email=f"jane@example.org{character}Bcc: x@y.z")
    page = response.content.decode()
    assert "Email address must be on one line; remove the line breaks" in page
    assert "Bcc: x@y.z" in page  # shown back, as one line, to be corrected


def test_a_name_written_as_a_message_from_the_service_sends_no_email(client):
    call = make_call()
    name = "Alice\r\n\r\nYour account is suspended. Log in at http://evil.example/login"
    response = post_about(client, call, name=name)
    assert "Full name must be on one line" in response.content.decode()
    assert client.post(url(call, "check")).url == url(call, "about")
    assert mail.outbox == []


def test_answers_keep_their_line_breaks(client):
    call = make_call()
    walk_to(client, call, "check")
    answer = Submission.objects.get().answers
    assert any("\n" in text for text in answer.values())


@pytest.mark.parametrize(
    "name",
    ["report\u3164.pdf", "\u3164.pdf", "re\u200bport.pdf", "report\ufeff.pdf", "a\u2028b.pdf"],
)
def test_a_file_name_with_an_invisible_character_is_refused(client, name):
    call = make_call()
    walk_to(client, call, "files")
    response = upload(client, call, [(name, samples.PDF)])
    page = response.content.decode()
    assert response.status_code == 200
    assert "contains control characters or invisible ones; rename the file" in page
    assert not Submission.objects.get().attachments.exists()


# --- Call titles and email failures ------------------------------------------------------------


@pytest.mark.parametrize("title", ["Evidence\r\nBcc: all@example.org", "Evidence\u202eecnedive"])
def test_a_call_title_on_several_lines_is_refused_in_the_admin(title):
    call = make_call()
    request = RequestFactory().post("/")
    request.user = make_call_manager()
    form_class = admin.site._registry[Call].get_form(request, call)
    form = form_class(data={"title": title}, instance=call)
    assert not form.is_valid()
    assert form.errors["title"][0].startswith("This field must")
    with pytest.raises(ValidationError):
        Call(title=title).clean_fields(
            exclude=[f.name for f in Call._meta.fields if f.name != "title"]
        )


class FailingBackend:
    """An email backend that breaks in a way that is not a network error."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise RuntimeError("the mail backend broke")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_call_title_with_a_line_break_still_shows_the_confirmation(client):
    # Saved before titles were checked, or by code: the email subject cannot hold it.
    call = make_call(notification_emails="staff@example.org")
    Call.objects.filter(pk=call.pk).update(title="Evidence\r\nBcc: everyone@example.org")
    walk_to(client, call, "check")

    response = client.post(url(call, "check"))

    assert response.url == url(call, "confirmation")
    submission = Submission.objects.get()
    assert submission.is_submitted
    assert submission.reference in client.get(url(call, "confirmation")).content.decode()
    run_worker()
    receipt = next(m for m in mail.outbox if m.to == [ABOUT["email"]])  # the receipt went
    assert "\n" not in receipt.subject and "\r" not in receipt.subject


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_any_failure_of_the_mail_backend_still_shows_the_confirmation(client, settings):
    settings.EMAIL_BACKEND = "tests.test_single_line.FailingBackend"
    call = make_call()
    walk_to(client, call, "check")

    response = client.post(url(call, "check"))

    assert response.url == url(call, "confirmation")
    assert Submission.objects.get().is_submitted

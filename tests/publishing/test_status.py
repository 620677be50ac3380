"""The contributor's status page, opened from the private link in their receipt."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from submissions.models import ContributorLink, OutgoingEmail, ReviewChange, Submission
from submissions.models.links import status_link_url
from submissions.outbox import queue as outbox
from tests.contributor import ABOUT, url, walk_to
from tests.factories import make_call, make_call_manager, make_reviewer, make_submission
from tests.publishing.helpers import publish
from tests.worker import run_worker

pytestmark = pytest.mark.django_db

STATUS = ContributorLink.Purpose.STATUS
Credit = Submission.Credit


def path_of(absolute_url: str) -> str:
    return urlsplit(absolute_url).path


def page_url(call) -> str:
    return reverse("status_page", args=[call.slug])


def open_link(client, link: str):
    return client.get(path_of(link), follow=True)


def credit_form(**values) -> dict:
    data = {
        "action": "credit",
        "credit-name": "Ada Lovelace",
        "credit-organisation": "Analytical Engines",
        "credit-orcid": "",
        "credit-credit_preference": Credit.NAME_AND_ORGANISATION,
    }
    data.update({f"credit-{key}": value for key, value in values.items()})
    return data


@pytest.fixture
def submission() -> Submission:
    return make_submission(make_call(), name="Ada Lovelace", organisation="Analytical Engines")


def test_the_link_is_absolute_and_opens_the_status_without_the_token_in_the_address(
    client, submission
):
    link = status_link_url(submission)
    token = path_of(link).rstrip("/").rsplit("/", 1)[-1]
    assert link.startswith("http://127.0.0.1:8000/")
    assert ContributorLink.find(token, STATUS).submission == submission

    opened = client.get(path_of(link))
    response = client.get(opened["Location"])

    # The token's address is never sent on as a referrer; the page it leads to holds no
    # secret, and keeps the site's policy: under no-referrer the browser would send
    # "Origin: null" with its forms, and the CSRF check refuses that (test_every_form_browser).
    assert opened["Location"] == page_url(submission.call)
    assert opened["Referrer-Policy"] == "no-referrer"
    assert response.status_code == 200
    assert token not in response.request["PATH_INFO"]
    assert token not in response.text
    assert submission.reference in response.text
    assert 'Status: <span class="submission-status">Received</span>' in response.text
    assert response["Cache-Control"].startswith("max-age=0")
    assert response["Referrer-Policy"] == "same-origin"
    # The clean address keeps working in this session.
    assert client.get(page_url(submission.call)).status_code == 200


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("new", "Received"),
        ("in_review", "In review"),
        ("shortlisted", "In review"),
        ("included", "Included in the toolkit"),
        ("not_included", "Not included"),
    ],
)
def test_it_tells_each_review_status_in_plain_words(client, submission, status, words):
    Submission.objects.filter(pk=submission.pk).update(review_status=status)

    response = open_link(client, status_link_url(submission))

    assert f'<span class="submission-status">{words}</span>' in response.text


def test_a_reviewer_includes_it_and_the_contributor_sees_it_with_their_credit_line(client):
    call = make_call()
    submission = make_submission(call, name="Ada Lovelace", organisation="Analytical Engines")
    link = status_link_url(submission)  # as in the receipt
    staff = client.__class__()
    staff.force_login(make_reviewer(every_call=True))
    response = staff.post(
        reverse("admin:submissions_submission_changelist"),
        {"action": "set_status_included", "_selected_action": [submission.pk]},
    )
    assert response.status_code == 302
    changed_at = ReviewChange.objects.get(submission=submission).changed_at

    response = open_link(client, link)

    assert '<span class="submission-status">Included in the toolkit</span>' in response.text
    assert '<strong class="credit-line">Ada Lovelace, Analytical Engines</strong>' in response.text
    assert response.context["last_change"] == changed_at
    assert "Not yet published: it will be public when the next release" in response.text
    assert client.get(reverse("credits", args=[call.slug])).status_code == 404

    publish(call)
    response = client.get(page_url(call))

    assert "Published in release 1" in response.text
    assert f'href="{reverse("credits", args=[call.slug])}"' in response.text
    assert (
        "Ada Lovelace, Analytical Engines" in client.get(reverse("credits", args=[call.slug])).text
    )


def test_one_who_asked_not_to_be_named_is_told_so(client):
    submission = make_submission(
        make_call(), review_status="included", credit_preference=Credit.NONE
    )

    response = open_link(client, status_link_url(submission))

    assert "You asked not to be credited publicly" in response.text


def test_a_replaced_link_is_dead_and_so_is_the_session_it_opened(client, submission):
    first = status_link_url(submission)
    open_link(client, first)
    second = status_link_url(submission)

    assert client.get(page_url(submission.call)).status_code == 404
    response = client.__class__().get(path_of(first), follow=True)
    assert response.status_code == 404
    assert "This link does not work" in response.text
    assert submission.reference not in response.text
    assert open_link(client.__class__(), second).status_code == 200


def test_a_forged_link_gives_a_clear_page_and_no_one_elses_data(client, submission):
    status_link_url(submission)
    forged = reverse("status", args=[submission.call.slug, "A" * 43])

    response = client.get(forged, follow=True)

    assert response.status_code == 404
    assert response.redirect_chain == [(page_url(submission.call), 302)]
    assert "This link does not work" in response.text
    assert "use the link in the most recent email" in response.text
    assert submission.name not in response.text and submission.reference not in response.text


def test_a_link_for_another_call_or_purpose_opens_nothing(client, submission):
    other = make_call()
    link = status_link_url(submission)
    token = path_of(link).rstrip("/").rsplit("/", 1)[-1]
    assert client.get(reverse("status", args=[other.slug, token]), follow=True).status_code == 404
    resume = ContributorLink.issue(submission, ContributorLink.Purpose.RESUME)
    response = client.get(reverse("status", args=[submission.call.slug, resume]), follow=True)
    assert response.status_code == 404


def test_an_erased_submission_leaves_the_link_dead(client, submission):
    link = status_link_url(submission)
    open_link(client, link)
    submission.delete()

    assert client.get(page_url(submission.call)).status_code == 404
    assert open_link(client.__class__(), link).status_code == 404


def test_the_contributor_corrects_their_credit_details_and_it_is_in_the_history(client, submission):
    open_link(client, status_link_url(submission))

    response = client.post(
        page_url(submission.call),
        credit_form(
            name="Augusta Ada King",
            organisation="Analytical Engines",
            orcid="https://orcid.org/0000-0002-1825-0097",
            credit_preference=Credit.ORGANISATION_ONLY,
        ),
        follow=True,
    )

    assert "Your credit details have been updated." in response.text
    submission.refresh_from_db()
    assert (submission.name, submission.orcid, submission.credit_line()) == (
        "Augusta Ada King",
        "0000-0002-1825-0097",
        "Analytical Engines",
    )
    changes = {
        c.field: (c.old_value, c.new_value, c.changed_by_name)
        for c in ReviewChange.objects.filter(submission=submission)
    }
    assert changes == {
        "name": ("Ada Lovelace", "Augusta Ada King", "Contributor (status page)"),
        "orcid": ("", "0000-0002-1825-0097", "Contributor (status page)"),
        "credit_preference": (
            "My name and organisation",
            "My organisation only",
            "Contributor (status page)",
        ),
    }
    # Staff see it in the submission's history.
    staff = client.__class__()
    staff.force_login(make_reviewer(every_call=True))
    page = staff.get(reverse("admin:submissions_submission_change", args=[submission.pk])).text
    assert "Contributor (status page)" in page and "Augusta Ada King" in page


def test_bad_credit_details_get_a_message_at_the_field(client, submission):
    open_link(client, status_link_url(submission))

    response = client.post(
        page_url(submission.call),
        credit_form(
            name="",
            orcid="0000-0002-1825-0098",
            organisation="",
            credit_preference=Credit.ORGANISATION_ONLY,
        ),
    )

    assert response.status_code == 200
    assert response.context["credit_form"].errors.as_data()["name"][0].code == "required"
    codes = {
        field: [e.code for e in errors]
        for field, errors in response.context["credit_form"].errors.as_data().items()
    }
    assert codes == {
        "name": ["required"],
        "orcid": ["orcid_checksum"],
        "organisation": ["organisation_for_credit"],
    }
    assert "<title>Error: Your submission" in response.text
    assert response.text.count('<span class="visually-hidden">Error: </span>') == 3
    submission.refresh_from_db()
    assert submission.name == "Ada Lovelace"
    assert not ReviewChange.objects.exists()


def test_frozen_credits_cannot_be_corrected(client, submission):
    open_link(client, status_link_url(submission))
    call = submission.call
    call.credits_frozen = True
    call.save()

    page = client.get(page_url(call)).text
    assert "The credits for this call are final" in page
    assert 'name="credit-name"' not in page

    client.post(page_url(call), credit_form(name="Someone Else"))

    submission.refresh_from_db()
    assert submission.name == "Ada Lovelace"
    assert not ReviewChange.objects.exists()


def test_credits_frozen_after_the_page_was_shown_still_refuse_the_change(client, submission):
    submission.call.credits_frozen = True
    submission.call.save()
    details = {
        "name": "X",
        "organisation": "Y",
        "orcid": "",
        "credit_preference": Credit.NAME_AND_ORGANISATION,
    }

    assert submission.correct_credit(details) is False
    submission.refresh_from_db()
    assert submission.name == "Ada Lovelace"


def test_the_contributor_asks_for_withdrawal_and_staff_see_it_and_erase_it(client, submission):
    submission.review_status = "included"
    submission.save()
    credits = reverse("credits", args=[submission.call.slug])
    open_link(client, status_link_url(submission))

    response = client.post(page_url(submission.call), {"action": "withdraw"})
    assert response.status_code == 200  # must tick the box
    assert response.context["withdrawal_form"].errors.as_data()["confirm"][0].code == "required"
    response = client.post(
        page_url(submission.call), {"action": "withdraw", "withdraw-confirm": "on"}, follow=True
    )

    assert "Withdrawal requested" in response.text
    assert 'name="credit-name"' not in response.text
    submission.refresh_from_db()
    assert submission.withdrawal_requested_at is not None
    change = ReviewChange.objects.get(submission=submission)
    assert (change.field, change.new_value, change.changed_by_name) == (
        "withdrawal_requested",
        "Requested",
        "Contributor (status page)",
    )
    assert client.get(credits).status_code == 404  # no longer credited (it was the only one)

    # A second request changes nothing.
    client.post(page_url(submission.call), {"action": "withdraw", "withdraw-confirm": "on"})
    assert ReviewChange.objects.filter(submission=submission).count() == 1

    staff = client.__class__()
    staff.force_login(make_call_manager())
    listed = staff.get(reverse("admin:submissions_submission_changelist"), {"withdrawal": "yes"})
    assert [s.pk for s in listed.context["cl"].result_list] == [submission.pk]
    page = staff.get(reverse("admin:submissions_submission_change", args=[submission.pk])).text
    assert "a call manager erases it with “Delete”" in page  # the request, on the page
    assert "Withdrawal requested</td>" in page  # and in the history
    response = staff.post(
        reverse("admin:submissions_submission_changelist"),
        {"action": "delete_selected", "_selected_action": [submission.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Submission.objects.filter(pk=submission.pk).exists()
    assert client.get(page_url(submission.call)).status_code == 404


def test_every_contributor_value_is_escaped(client):
    script = '<script>alert("x")</script>'
    submission = make_submission(
        make_call(),
        review_status="included",
        name=f"Name {script}",
        organisation=f"Org {script}",
        orcid="<i>0</i>",
    )

    page = open_link(client, status_link_url(submission)).text

    assert "<script>alert" not in page and "<i>0" not in page
    assert "Name &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;, Org &lt;script&gt;" in page


def test_the_status_page_makes_a_fixed_small_number_of_queries(
    client, submission, django_assert_num_queries
):
    open_link(client, status_link_url(submission))

    # The session, the link with its submission, the call, the last status change, the
    # release that shows it.
    with django_assert_num_queries(5):
        response = client.get(page_url(submission.call))

    assert response.status_code == 200


def test_the_contributor_follows_the_link_in_their_receipt_even_after_it_was_resent(
    client, seeded_call
):
    walk_to(client, seeded_call, "check")
    client.post(url(seeded_call, "check"))
    run_worker()
    receipt = next(m for m in mail.outbox if m.to == [ABOUT["email"]])
    html = receipt.alternatives[0][0]
    link = re.search(r"https?://\S+/status/[\w-]+/", receipt.body).group(0)
    assert f'href="{link}"' in html
    submission = Submission.objects.get()
    Submission.objects.filter(pk=submission.pk).update(review_status="included")

    # Sent again (an uncertain first send, or staff retrying): the same link, still working.
    email = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.RECEIPT)
    OutgoingEmail.objects.filter(pk=email.pk).update(state=OutgoingEmail.State.FAILED)
    assert outbox.retry(OutgoingEmail.objects.get(pk=email.pk))
    mail.outbox.clear()
    run_worker()
    resent = next(m for m in mail.outbox if m.to == [ABOUT["email"]])
    assert link in resent.body

    page = Client().get(path_of(link), follow=True)
    assert "Included in the toolkit" in page.text
    assert submission.reference in page.text
    assert ContributorLink.objects.get(submission=submission).token_sha256 not in receipt.body


def test_the_withdrawal_confirmation_is_a_checkbox_with_its_label_beside_it(client, submission):
    open_link(client, status_link_url(submission))
    page = client.get(page_url(submission.call)).text
    box = re.search(r'<input type="checkbox"[^>]*>', page).group(0)
    assert "form-check-input" in box and "form-control" not in box
    assert 'class="form-check-label">I want my submission withdrawn' in page


def test_opening_the_link_starts_a_new_session_key_so_a_planted_cookie_reads_nothing(submission):
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore

    planted = SessionStore()
    planted.create()  # the attacker's session, its cookie left in a shared computer's browser
    contributor, attacker = Client(), Client()
    for client in (contributor, attacker):
        client.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key

    page = open_link(contributor, status_link_url(submission))

    assert "Ada Lovelace" in page.content.decode()
    assert contributor.cookies[settings.SESSION_COOKIE_NAME].value != planted.session_key
    stolen = attacker.get(page_url(submission.call))
    assert stolen.status_code == 404
    assert "Ada Lovelace" not in stolen.content.decode()


def test_the_status_page_is_never_cached(client, submission):
    page = open_link(client, status_link_url(submission))

    assert "no-store" in page["Cache-Control"]

"""A call's outcome screens in the admin: the pack's themes and order, synthesis notes with their
history, the outcome page and the toolkit, and who may do what."""

import pytest
from django.test import Client
from django.urls import reverse

from submissions.models import (
    OutgoingEmail,
    Submission,
    SynthesisNote,
    SynthesisNoteChange,
    SynthesisPack,
    Theme,
)

from ..factories import assign, make_call, make_call_manager, make_reviewer, make_submission
from ..outbox.test_outcome_emails import queue_toolkit_stopped_in_the_second_batch
from ..publishing.helpers import publish
from ..worker import run_worker

pytestmark = pytest.mark.django_db
INCLUDED = Submission.ReviewStatus.INCLUDED
TOOLKIT = "https://toolkit.example/social-media"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, call, *args) -> str:
    return reverse(f"admin:submissions_call_{name}", args=[call.pk, *args])


@pytest.fixture
def reviewed(seeded_call):
    tools = Theme.objects.create(name="Tools")
    risks = Theme.objects.create(name="Risks")
    ana = make_submission(seeded_call, name="Ana Jones", review_status=INCLUDED)
    ana.themes.set([tools])
    cy = make_submission(
        seeded_call, name="Cy Li", review_status=Submission.ReviewStatus.SHORTLISTED
    )
    cy.themes.set([tools, risks])
    new = make_submission(seeded_call, name="Nat New")
    new.themes.set([tools])
    alice = make_reviewer("alice", first_name="Alice", last_name="Smith")
    assign(alice, seeded_call)
    publish(seeded_call)  # release 1: Ana's
    return seeded_call, tools, risks, ana, cy, alice


def test_the_outcome_screen_lists_each_theme_with_its_note(reviewed):
    call, tools, risks, *_ = reviewed
    bob = make_call_manager()
    SynthesisNote.record(
        call, tools, text="Videos.", informed_by=[], published=True, by=bob, by_name="Bob"
    )

    page = signed_in(bob).get(url("outcome", call)).content.decode()

    assert f'<a href="{url("note", call, tools.pk)}">Tools</a>' in page
    assert f'<a href="{url("note", call, risks.pk)}">Risks</a>' in page
    assert "Written" in page and "Not yet" in page
    assert "Publish the outcome page" in page
    releases = reverse("admin:submissions_call_releases", args=[call.pk])
    assert f'emails 1 contributor whose evidence is in <a href="{releases}">release 1</a>' in page
    assert "2 other contributors get a thank-you" in page
    assert "not in release 1" not in page


def test_staff_choose_the_packs_themes_and_order(reviewed):
    call, tools, risks, _, _, alice = reviewed
    client = signed_in(alice)

    response = client.post(
        url("pack", call),
        {
            f"theme_{risks.pk}": "on",
            f"order_{risks.pk}": "1",
            f"theme_{tools.pk}": "on",
            f"order_{tools.pk}": "2",
            "include_shortlisted": "on",
        },
    )

    assert response.status_code == 302
    pack = SynthesisPack.objects.get(call=call)
    assert pack.theme_order == [risks.pk, tools.pk]
    assert pack.include_shortlisted and pack.updated_by_name == "Alice Smith"
    page = client.get(url("pack_print", call)).content.decode()
    assert page.index("</span> Risks</h2>") < page.index("</span> Tools</h2>")


def test_a_position_out_of_range_is_refused_at_the_field(reviewed):
    call, tools, *_, alice = reviewed

    response = signed_in(alice).post(
        url("pack", call), {f"theme_{tools.pk}": "on", f"order_{tools.pk}": "0"}
    )

    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in response.content.decode()
    assert not SynthesisPack.objects.exists()


def test_a_note_is_kept_with_its_history_and_only_call_managers_publish_it(reviewed):
    call, tools, _, ana, cy, alice = reviewed

    response = signed_in(alice).post(
        url("note", call, tools.pk),
        {"text": "Short videos travel.", "informed_by": [ana.pk], "published": "on"},
    )

    assert response.status_code == 302
    note = SynthesisNote.objects.get(call=call, theme=tools)
    assert note.text == "Short videos travel." and not note.published  # alice may not publish
    assert list(note.informed_by.all()) == [ana]
    bob = make_call_manager()
    signed_in(bob).post(
        url("note", call, tools.pk),
        {"text": "Short videos travel further.", "informed_by": [ana.pk, cy.pk], "published": "on"},
    )
    changes = [
        (c.changed_by_name, c.field, c.old_value, c.new_value)
        for c in SynthesisNoteChange.objects.filter(note=note).order_by("id")
    ]
    assert changes == [
        ("Alice Smith", "text", "", "Short videos travel."),
        ("Alice Smith", "informed_by", "", ana.reference),
        ("bob", "text", "Short videos travel.", "Short videos travel further."),
        ("bob", "informed_by", ana.reference, ", ".join(sorted([ana.reference, cy.reference]))),
        ("bob", "published", "No", "Yes"),
    ]
    page = signed_in(bob).get(url("note", call, tools.pk)).content.decode()
    assert "Short videos travel further." in page and "Shown on the outcome page" in page


def test_a_note_names_only_the_themes_pack_contributions(reviewed):
    call, tools, _, ana, cy, alice = reviewed
    new = Submission.objects.get(name="Nat New")

    page = signed_in(alice).get(url("note", call, tools.pk)).content.decode()
    response = signed_in(alice).post(url("note", call, tools.pk), {"informed_by": [new.pk]})

    assert ana.reference in page and cy.reference in page and new.reference not in page
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()


def test_marking_the_toolkit_published_twice_queues_each_email_once(reviewed):
    call, *_ = reviewed
    client = signed_in(make_call_manager())
    data = {"action": "toolkit", "toolkit_url": TOOLKIT, "thank_other_contributors": "on"}

    first = client.post(url("outcome", call), data, follow=True).content.decode()
    second = client.post(
        url("outcome", call), {**data, "toolkit_url": TOOLKIT + "/v2"}, follow=True
    ).content.decode()

    assert "The emails to contributors are being queued" in first
    assert "Queueing the emails to contributors…" in first  # the worker has not started
    assert "nobody is emailed again" in second
    told = OutgoingEmail.objects.filter(kind__in=["toolkit_published", "thank_you"])
    assert not told.exists()
    run_worker()  # the long jobs' worker queues them (outbox/queue.py queue_toolkit_job)
    kinds = told.values_list("kind", flat=True)
    assert sorted(kinds) == ["thank_you", "thank_you", "toolkit_published"]
    done = client.get(url("outcome", call)).content.decode()
    assert "1 email to contributors in the toolkit and 2 thank-yous to the others queued" in done
    assert "Queueing" not in done
    call.refresh_from_db()
    assert call.toolkit_url == TOOLKIT + "/v2" and call.outcome_is_published
    assert Client().get(f"/{call.slug}/outcome/").status_code == 200


def test_the_screen_shows_how_many_emails_the_worker_has_queued_so_far(reviewed, monkeypatch):
    call, *_ = reviewed
    client = signed_in(make_call_manager())
    data = {"action": "toolkit", "toolkit_url": TOOLKIT, "thank_other_contributors": "on"}
    client.post(url("outcome", call), data)
    queue_toolkit_stopped_in_the_second_batch(monkeypatch, call, 2)

    page = client.get(url("outcome", call)).content.decode()

    assert "2 of 3 emails queued" in page
    run_worker()  # the fallback, or the task again: the rest
    page = client.get(url("outcome", call)).content.decode()
    assert "2 of 3" not in page and "2 thank-yous to the others queued" in page
    told = OutgoingEmail.objects.filter(kind__in=["toolkit_published", "thank_you"])
    assert told.count() == 3


def test_the_screen_updates_itself_while_the_emails_are_queued_until_told_to_stop(reviewed):
    call, *_ = reviewed
    client = signed_in(make_call_manager())
    data = {"action": "toolkit", "toolkit_url": TOOLKIT, "thank_other_contributors": "on"}
    client.post(url("outcome", call), data)

    updating = client.get(url("outcome", call)).content.decode()
    still = client.get(url("outcome", call) + "?updates=off").content.decode()
    run_worker()
    done = client.get(url("outcome", call)).content.decode()

    # A reload without JavaScript, the script with it; and a way to stop either.
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in updating
    assert "review/poll_status.js" in updating and 'data-refresh="5"' in updating
    stop = f'href="{url("outcome", call)}?updates=off#toolkit">Stop updating this page</a>'
    assert stop in updating
    assert "http-equiv" not in still and "poll_status.js" not in still
    assert 'data-refresh="0"' in still and "This page no longer updates itself" in still
    assert "http-equiv" not in done and 'data-refresh="0"' in done
    assert "Stop updating" not in done and "no longer updates" not in done


def test_a_toolkit_link_that_is_not_a_web_address_is_refused(reviewed):
    call, *_ = reviewed
    client = signed_in(make_call_manager())

    response = client.post(
        url("outcome", call), {"action": "toolkit", "toolkit_url": "ftp://x.org"}
    )

    assert response.status_code == 200
    assert "Enter a valid URL." in response.content.decode() or "starting https://" in (
        response.content.decode()
    )
    assert not OutgoingEmail.objects.exists()


def test_a_reviewer_may_not_publish_the_outcome_or_the_toolkit(reviewed):
    call, *_, alice = reviewed
    client = signed_in(alice)

    page = client.get(url("outcome", call)).content.decode()
    publish = client.post(url("outcome", call), {"action": "publish_outcome"})
    toolkit = client.post(url("outcome", call), {"action": "toolkit", "toolkit_url": TOOLKIT})

    assert "Publish the outcome page" not in page and "Mark the toolkit published" not in page
    assert publish.status_code == toolkit.status_code == 403
    call.refresh_from_db()
    assert call.outcome_published_at is None and call.toolkit_published_at is None
    assert not OutgoingEmail.objects.exists()


def test_a_reviewer_of_another_call_finds_none_of_these_screens(reviewed):
    call, tools, *_ = reviewed
    stranger = make_reviewer("zed")
    assign(stranger, make_call())
    client = signed_in(stranger)

    for name, args in [("outcome", ()), ("pack", ()), ("pack_pdf", ()), ("note", (tools.pk,))]:
        assert client.get(url(name, call, *args)).status_code == 404, name
    assert client.post(url("note", call, tools.pk), {"text": "x"}).status_code == 404
    assert not SynthesisNote.objects.exists()


def test_the_call_list_links_to_the_outcome(reviewed):
    call, *_ = reviewed

    page = signed_in(make_call_manager()).get(reverse("admin:submissions_call_changelist"))

    assert f'<a href="{url("outcome", call)}">Outcome and pack</a>' in page.content.decode()


def test_before_any_release_the_manager_is_told_to_publish_one_and_nothing_is_sent(seeded_call):
    make_submission(seeded_call, email="ana@example.org", review_status=INCLUDED)
    make_submission(seeded_call, email="bo@example.org")
    client = signed_in(make_call_manager())
    data = {"action": "toolkit", "toolkit_url": TOOLKIT, "thank_other_contributors": "on"}

    page = client.get(url("outcome", seeded_call)).content.decode()
    response = client.post(url("outcome", seeded_call), data, follow=True)

    releases = reverse("admin:submissions_call_releases", args=[seeded_call.pk])
    assert "Publish a release first." in page
    assert f'<a href="{releases}">Go to the releases</a>' in page
    assert "Mark the toolkit published and email contributors" not in page
    # A press anyway (a form open from before, a second tab): refused, plainly, nothing done.
    after = response.content.decode()
    assert "Nothing was sent and the toolkit is not marked published" in after
    assert "Publish a release first" in after
    assert not OutgoingEmail.objects.exists()
    seeded_call.refresh_from_db()
    assert seeded_call.toolkit_published_at is None and seeded_call.toolkit_url == ""
    assert seeded_call.outcome_published_at is None


def test_included_contributions_a_release_has_not_published_yet_are_pointed_out(reviewed):
    call, _, _, _, cy, _ = reviewed
    Submission.objects.filter(pk=cy.pk).update(review_status=INCLUDED)

    page = signed_in(make_call_manager()).get(url("outcome", call)).content.decode()

    assert "1 included contribution is not in release 1." in page
    assert "Its contributor would be thanked, not credited." in page
    assert "publish release 2</a> before marking the toolkit published" in page
    assert "emails 1 contributor whose evidence is in" in page  # Ana's; not Cy's

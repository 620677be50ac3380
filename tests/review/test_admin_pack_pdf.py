"""The synthesis pack's PDF in the admin: "Download the PDF" asks the worker for it and returns at
once; its page says where it is in each state; the file downloads only for staff of the call."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from submissions.models import ReviewChange, Submission, SynthesisPack, SynthesisPackPdf, Theme
from submissions.publishing.pack_file import request_pdf

from ..factories import (
    assign,
    make_call,
    make_call_manager,
    make_reviewer,
    make_staff_without_group,
    make_submission,
)
from ..worker import run_worker

pytestmark = pytest.mark.django_db
INCLUDED = Submission.ReviewStatus.INCLUDED
State = SynthesisPackPdf.State


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, call) -> str:
    return reverse(f"admin:submissions_call_{name}", args=[call.pk])


@pytest.fixture
def reviewed(seeded_call):
    tools = Theme.objects.create(name="Tools")
    risks = Theme.objects.create(name="Risks")
    for name, themes in [("Ana Jones", [tools]), ("Cy Li", [tools, risks])]:
        make_submission(seeded_call, name=name, review_status=INCLUDED).themes.set(themes)
    alice = make_reviewer("alice", first_name="Alice", last_name="Smith")
    assign(alice, seeded_call)
    return seeded_call, tools, risks, alice


def pdf_tasks() -> int:
    return DBTaskResult.objects.filter(task_path__endswith="make_pack_pdf").count()


def page_of(client: Client, call) -> str:
    response = client.get(url("pack_pdf", call))
    assert response.status_code == 200
    return response.content.decode()


def test_download_the_pdf_returns_at_once_and_the_page_says_it_is_being_prepared(reviewed):
    call, _, _, alice = reviewed
    client = signed_in(alice)

    response = client.post(url("pack_pdf", call), {"action": "download"})

    assert response.status_code == 302 and response["Location"] == url("pack_pdf", call)
    assert pdf_tasks() == 1  # queued for the worker; nothing was rendered in the request
    pdf = SynthesisPackPdf.objects.get()
    assert pdf.state == State.WAITING and pdf.requested_by_name == "Alice Smith"
    page = page_of(client, call)
    assert "<h2>Waiting for the worker</h2>" in page
    assert "Asked for by Alice Smith on " in page and "UK time" in page
    assert "A PDF of 3 contributions takes about 5 seconds" in page
    assert "You can leave this page" in page
    # Updates itself: a reload without JavaScript, the script with it; and a way to stop it.
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page
    assert 'data-refresh="5"' in page and "review/poll_status.js" in page
    assert f'href="{url("pack_pdf", call)}?updates=off">Stop updating this page</a>' in page


def test_the_page_can_be_asked_to_stop_updating_itself(reviewed):
    call, _, _, alice = reviewed
    request_pdf(call, by_name="")

    page = signed_in(alice).get(url("pack_pdf", call) + "?updates=off").content.decode()

    assert "http-equiv" not in page and 'data-refresh="0"' in page
    assert "This page no longer updates itself" in page


def test_while_the_worker_makes_it_the_page_says_since_when(reviewed):
    call, _, _, alice = reviewed
    pdf, _ = request_pdf(call, by_name="Bob")
    assert SynthesisPackPdf.claim(pdf.pk, str(pdf.job))

    with time_machine.travel(timezone_now() + timedelta(minutes=3)):
        page = page_of(signed_in(alice), call)

    assert "<h2>Being prepared</h2>" in page
    assert "Asked for by Bob on" in page and "3 minutes ago" in page
    assert "the worker started on it at " in page


def timezone_now():
    from django.utils import timezone

    return timezone.now()


def test_when_ready_the_page_offers_the_download_with_its_size_date_and_options(reviewed):
    call, tools, risks, alice = reviewed
    SynthesisPack.objects.create(call=call, theme_order=[risks.pk, tools.pk])
    client = signed_in(alice)
    client.post(url("pack_pdf", call), {"action": "download"})
    run_worker()
    pdf = SynthesisPackPdf.objects.get()

    page = page_of(client, call)

    assert "<h2>Ready</h2>" in page and "http-equiv" not in page and 'data-refresh="0"' in page
    download = url("pack_pdf_file", call)
    assert (
        f'<a href="{download}" class="button default pack-pdf-download">Download the PDF</a>'
        in (page)
    )
    size = f"{pdf.size / 1024:.0f} KB"
    assert f"{size}, {pdf.pages} pages." in page
    assert "Made on " in page and "; asked for by Alice Smith." in page
    assert (
        "2 contributions, printed 3 times (one with several themes is printed under each); "
        "2 themes, in this order: Risks; Tools." in page
    )
    assert "Shortlisted ones left out." in page
    assert "Out of date" not in page
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert {"private", "no-store"} <= set(response["Cache-Control"].split(", "))
    assert response["Content-Disposition"].startswith('attachment; filename="synthesis-pack-')
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_download_the_pdf_again_when_it_is_up_to_date_downloads_it_without_remaking_it(reviewed):
    call, _, _, alice = reviewed
    client = signed_in(alice)
    client.post(url("pack_pdf", call), {"action": "download"})
    run_worker()

    response = client.post(url("pack_pdf", call), {"action": "download"})

    assert response.status_code == 302 and response["Location"] == url("pack_pdf_file", call)
    assert pdf_tasks() == 1


def test_pressing_again_while_it_is_being_prepared_starts_no_second_one(reviewed):
    call, _, _, alice = reviewed
    client = signed_in(alice)
    client.post(url("pack_pdf", call), {"action": "download"})

    second = client.post(url("pack_pdf", call), {"action": "again"}, follow=True)

    assert pdf_tasks() == 1 and SynthesisPackPdf.objects.count() == 1
    assert "This PDF was already being prepared: pressing again starts no other." in (
        second.content.decode()
    )


def test_changing_the_packs_options_marks_the_pdf_out_of_date(reviewed):
    call, tools, _, alice = reviewed
    client = signed_in(alice)
    client.post(url("pack_pdf", call), {"action": "download"})
    run_worker()

    saved = client.post(
        url("pack", call),
        {f"theme_{tools.pk}": "on", f"order_{tools.pk}": "1"},
        follow=True,
    ).content.decode()
    page = page_of(client, call)

    assert "The PDF made before is out of date: download it again to remake it." in saved
    assert "before the options changed: it is out of date" in saved
    assert "Out of date:" in page
    assert "the pack's themes, their order or the choice of shortlisted ones changed" in page
    assert ">Make it again</button>" in page
    # Pressing "Download the PDF" now makes a new one, with the new options.
    client.post(url("pack_pdf", call), {"action": "download"})
    pdf = SynthesisPackPdf.objects.get()
    assert pdf.state == State.WAITING and pdf.theme_order == [tools.pk]


def test_a_review_decision_after_it_was_made_marks_it_out_of_date_too(reviewed):
    call, tools, _, alice = reviewed
    client = signed_in(alice)
    client.post(url("pack_pdf", call), {"action": "download"})
    run_worker()
    make_submission(call, review_status=INCLUDED).themes.set([tools])

    page = page_of(client, call)

    assert "1 contribution has come into the pack or left it since" in page


def test_a_failure_says_what_happened_and_offers_to_try_again(reviewed):
    call, _, _, alice = reviewed
    pdf, _ = request_pdf(call, by_name="")
    SynthesisPackPdf.claim(pdf.pk, str(pdf.job))
    pdf.record_failure(str(pdf.job), "MemoryError: out of memory")
    client = signed_in(alice)

    page = page_of(client, call)
    client.post(url("pack_pdf", call), {"action": "again"})

    assert "<h2>It could not be made</h2>" in page
    assert "with this error: MemoryError: out of memory" in page
    assert ">Try again</button>" in page
    assert SynthesisPackPdf.objects.get().state == State.WAITING and pdf_tasks() == 2


def test_a_pdf_that_stopped_can_be_tried_again(reviewed):
    call, _, _, alice = reviewed
    pdf, _ = request_pdf(call, by_name="")
    SynthesisPackPdf.claim(pdf.pk, str(pdf.job))
    pdf.refresh_from_db()

    with time_machine.travel(pdf.stalls_at + timedelta(seconds=1)):
        page = page_of(signed_in(alice), call)
        signed_in(alice).post(url("pack_pdf", call), {"action": "download"})

    assert (
        "<h2>It seems to have stopped</h2>" in page
        and "manage.py db_worker --queue-name documents" in page
    )
    assert "http-equiv" not in page and ">Try again</button>" in page
    assert pdf_tasks() == 2 and SynthesisPackPdf.objects.get().job != pdf.job


def test_a_deleted_pdf_says_why(reviewed):
    call, _, _, alice = reviewed
    request_pdf(call, by_name="")
    run_worker()
    Submission.objects.get(name="Ana Jones").request_withdrawal()

    page = page_of(signed_in(alice), call)

    assert "<h2>Deleted</h2>" in page
    assert "A contribution in it was withdrawn by its contributor." in page
    assert signed_in(alice).get(url("pack_pdf_file", call))["Location"] == url("pack_pdf", call)


def test_with_no_pdf_yet_the_page_offers_to_prepare_one_and_says_how_long(reviewed):
    call, _, _, alice = reviewed

    page = page_of(signed_in(alice), call)

    assert "<h2>No PDF made yet</h2>" in page
    assert "For the 3 contributions it would print" in page and "about 5 seconds" in page
    assert ">Prepare the PDF</button>" in page


def test_the_outcome_screen_says_where_the_pdf_is(reviewed):
    call, _, _, alice = reviewed
    client = signed_in(alice)
    client.post(url("pack_pdf", call), {"action": "download"})

    waiting = client.get(url("outcome", call)).content.decode()
    run_worker()
    ready = client.get(url("outcome", call)).content.decode()

    assert ">Download the PDF</button>" in waiting
    assert f'<a href="{url("pack_pdf", call)}">Being prepared</a>, asked for ' in waiting
    assert f'<a href="{url("pack_pdf", call)}">The last PDF</a> was made ' in ready


def test_only_staff_of_the_call_see_the_pdf_its_page_or_ask_for_one(reviewed):
    call, _, _, alice = reviewed
    request_pdf(call, by_name="")
    run_worker()
    stranger = make_reviewer("zed")
    assign(stranger, make_call())
    pages = [url("pack_pdf", call), url("pack_pdf_file", call)]

    for user, expected in [(stranger, 404), (make_staff_without_group("dave"), 403)]:
        client = signed_in(user)
        for page in pages:
            assert client.get(page).status_code == expected, (user, page)
        assert client.post(pages[0], {"action": "again"}).status_code == expected
    for page in pages:
        response = Client().get(page)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Client().post(pages[0], {"action": "again"}).status_code == 302
    assert pdf_tasks() == 1  # none of them started one
    assert signed_in(alice).get(pages[1]).status_code == 200
    assert signed_in(make_call_manager()).get(pages[1]).status_code == 200


@pytest.mark.parametrize("state", ["none", "waiting", "ready"])
def test_the_pages_queries_do_not_grow_with_the_pack(reviewed, django_assert_num_queries, state):
    call, tools, _, alice = reviewed
    client = signed_in(alice)
    if state != "none":
        request_pdf(call, by_name="")
    if state == "ready":
        run_worker()
    # The session, the user and their permissions (4), the call, the PDF's row, then: with none,
    # what one would print (the options, the themes they default to, the contributions);
    # waiting, its themes' names; ready, those and whether it is out of date (the options, what
    # it would print now, and whether what it prints of them changed since).
    expected = {"none": 9, "waiting": 7, "ready": 11}[state]
    client.get(url("pack_pdf", call))  # the session's first request

    with django_assert_num_queries(expected):
        client.get(url("pack_pdf", call))
    for _ in range(20):
        make_submission(call, review_status=INCLUDED).themes.set([tools])
    with django_assert_num_queries(expected):
        client.get(url("pack_pdf", call))


def test_the_press_and_the_download_cost_a_few_queries(reviewed, django_assert_num_queries):
    call, _, _, alice = reviewed
    client = signed_in(alice)
    client.get(url("pack_pdf", call))

    # 4 for the session, user and permissions, the call, the options and their themes, what
    # they print, the PDF's row; its insert and the task's, in a transaction (4 here: savepoints).
    with django_assert_num_queries(15):
        client.post(url("pack_pdf", call), {"action": "download"})
    run_worker()
    with django_assert_num_queries(6):  # the session, user, permissions, call and PDF's row
        response = client.get(url("pack_pdf_file", call))
    assert response.status_code == 200
    assert re.match(r"attachment; filename=", response["Content-Disposition"])


def test_a_credit_corrected_on_the_status_page_after_it_was_made_marks_it_out_of_date(reviewed):
    from submissions.models.links import status_link_url

    from ..publishing.test_status import credit_form, open_link

    call, _, _, alice = reviewed
    client = signed_in(alice)
    client.post(url("pack_pdf", call), {"action": "download"})
    run_worker()
    ana = Submission.objects.get(name="Ana Jones")
    assert "Out of date" not in page_of(client, call)

    # Ana corrects her credit on her status page: the PDF prints the old line.
    contributor = Client()
    open_link(contributor, status_link_url(ana))
    contributor.post(
        reverse("status_page", args=[call.slug]),
        credit_form(name="Ana Jones-Li", organisation="UWE"),
    )
    assert Submission.objects.get(pk=ana.pk).credit_line() == "Ana Jones-Li, UWE"
    page = page_of(client, call)

    assert "Out of date:" in page
    assert "1 contribution in it has had its credit details corrected by its contributor" in page
    # "Download the PDF" makes a new one rather than hand over the old one.
    response = client.post(url("pack_pdf", call), {"action": "download"})
    assert response["Location"] == url("pack_pdf", call)
    assert SynthesisPackPdf.objects.get().state == State.WAITING and pdf_tasks() == 2
    run_worker()
    assert "Out of date" not in page_of(client, call)


def test_a_theme_changed_in_the_admin_after_it_was_made_marks_it_out_of_date(reviewed):
    call, *_, alice = reviewed
    client = signed_in(alice)
    client.post(url("pack_pdf", call), {"action": "download"})
    run_worker()
    ana = Submission.objects.get(name="Ana Jones")
    ReviewChange.objects.create(
        submission=ana, field=ReviewChange.Field.THEMES, old_value="Tools", new_value="Risks"
    )  # as the admin records a reviewer's change of themes

    page = page_of(client, call)

    assert "Out of date:" in page
    assert "or its themes changed since." in page

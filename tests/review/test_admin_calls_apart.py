"""Calls kept apart: a reviewer sees, changes, exports and downloads only their calls' work."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.base import ContentFile
from django.urls import reverse

from submissions.models import Attachment, Call, CallReviewer, ReviewChange, Submission
from tests.factories import assign, make_call, make_call_manager, make_reviewer, make_submission

from .. import samples

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:submissions_submission_changelist")
INDEX_URL = reverse("admin:index")


def stored_attachment(submission: Submission) -> Attachment:
    attachment = Attachment(
        submission=submission,
        original_name="evidence.pdf",
        size=len(samples.PDF),
        content_type="application/pdf",
        sha256=f"{submission.pk:064x}",
    )
    attachment.file.save("upload", ContentFile(samples.PDF), save=True)
    return attachment


@pytest.fixture
def calls():
    mine = make_call(title="Mine: What Works 2027")
    theirs = make_call(title="Theirs: another call")
    return mine, theirs


@pytest.fixture
def alice(calls) -> User:
    """A reviewer of the first call only."""
    user = make_reviewer("alice", first_name="Alice", last_name="Smith")
    assign(user, calls[0])
    return user


@pytest.fixture
def work(calls):
    mine, theirs = calls
    own = make_submission(mine, name="Own Contributor")
    other = make_submission(theirs, name="Other Contributor")
    return own, other, stored_attachment(own), stored_attachment(other)


def listed(client, **params) -> set[str]:
    response = client.get(LIST_URL, params)
    assert response.status_code == 200
    return {s.reference for s in response.context["cl"].result_list}


def submission_urls(submission: Submission) -> dict[str, str]:
    pk = submission.pk
    return {
        "change": reverse("admin:submissions_submission_change", args=[pk]),
        "history": reverse("admin:submissions_submission_history", args=[pk]),
        "bare": reverse("admin:submissions_submission_changelist") + f"{pk}/",
    }


def test_a_reviewer_lists_only_the_submissions_of_their_calls(client, alice, work):
    own, other, *_ = work
    client.force_login(alice)

    assert listed(client) == {own.reference}
    assert listed(client, state="all") == {own.reference}
    assert listed(client, call__id__exact=other.call_id) == set()
    assert listed(client, q=other.reference) == set()


@pytest.mark.parametrize("who", ["call manager", "superuser"])
def test_call_managers_and_superusers_list_every_call(client, work, who):
    own, other, *_ = work
    if who == "superuser":
        user = User.objects.create_superuser("carol", "carol@example.org", "pw")
    else:
        user = make_call_manager()
    client.force_login(user)

    assert listed(client) == {own.reference, other.reference}


def test_every_admin_url_of_another_calls_submission_is_a_404(client, alice, work):
    own, other, *_ = work
    client.force_login(alice)

    for name, url in submission_urls(own).items():
        response = client.get(url, follow=name == "bare")
        assert response.status_code == 200, name
    for name, url in submission_urls(other).items():
        response = client.get(url, follow=name == "bare")
        assert response.status_code == 404, name
    # A reviewer may delete nothing: the same refusal for either call, so it tells nothing.
    for submission in (own, other):
        url = reverse("admin:submissions_submission_delete", args=[submission.pk])
        assert client.get(url).status_code == 403


def test_an_id_never_used_is_the_same_404(client, alice, work):
    client.force_login(alice)

    response = client.get(reverse("admin:submissions_submission_change", args=[987654]))

    assert response.status_code == 404


def test_a_reviewer_cannot_change_another_calls_submission_by_post(client, alice, work):
    _, other, *_ = work
    client.force_login(alice)

    response = client.post(
        submission_urls(other)["change"],
        {"review_status": "shortlisted", "reviewer_notes": "sneaky", "assigned_reviewer": ""},
    )

    assert response.status_code == 404
    other.refresh_from_db()
    assert (other.review_status, other.reviewer_notes) == ("new", "")
    assert not ReviewChange.objects.exists()


def test_a_bulk_action_leaves_another_calls_submissions_alone(client, alice, work):
    own, other, *_ = work
    client.force_login(alice)

    client.post(
        LIST_URL,
        {"action": "set_status_shortlisted", "_selected_action": [own.pk, other.pk]},
    )

    statuses = dict(Submission.objects.values_list("pk", "review_status"))
    assert statuses == {own.pk: "shortlisted", other.pk: "new"}


def test_a_reviewer_downloads_only_their_calls_files(client, alice, work):
    _, _, own_file, other_file = work
    client.force_login(alice)

    own = client.get(reverse("attachment_download", args=[own_file.pk]))
    other = client.get(reverse("attachment_download", args=[other_file.pk]))
    never = client.get(reverse("attachment_download", args=[987654]))

    assert own.status_code == 200
    assert b"".join(own.streaming_content) == samples.PDF
    assert other.status_code == 404
    assert never.status_code == 404


def test_a_call_manager_downloads_every_calls_files(client, work):
    _, _, own_file, other_file = work
    client.force_login(make_call_manager())

    for attachment in (own_file, other_file):
        response = client.get(reverse("attachment_download", args=[attachment.pk]))
        assert response.status_code == 200


def test_a_reviewer_who_may_export_exports_only_their_calls(client, alice, work):
    own, other, *_ = work
    alice.user_permissions.add(Permission.objects.get(codename="export_submissions"))
    client.force_login(alice)

    everything = client.get(reverse("admin:submissions_submission_export"))
    selected = client.post(
        LIST_URL, {"action": "export_csv", "_selected_action": [own.pk, other.pk]}
    )

    for response in (everything, selected):
        data = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(data, newline="")))
        assert [row["Reference"] for row in rows] == [own.reference]


def test_the_overview_counts_only_the_reviewers_calls(client, alice, work):
    client.force_login(alice)

    html = client.get(INDEX_URL).text

    assert "Mine: What Works 2027" in html
    assert "Theirs: another call" not in html


def test_a_reviewer_sees_only_their_calls_among_the_calls(client, alice, calls):
    mine, theirs = calls
    client.force_login(alice)

    response = client.get(reverse("admin:submissions_call_changelist"))
    other = client.get(reverse("admin:submissions_call_change", args=[theirs.pk]))

    assert [call.pk for call in response.context["cl"].result_list] == [mine.pk]
    # Not found, as for a submission of another call or an id never used.
    assert other.status_code == 404
    assert "Theirs: another call" not in other.text


def test_the_call_column_and_filter_appear_only_with_two_calls_to_review(client, alice, work):
    client.force_login(alice)
    one = client.get(LIST_URL).text
    assign(alice, work[1].call)
    two = client.get(LIST_URL).text

    assert "column-call_short" not in one and "By call" not in one
    assert "column-call_short" in two and "By call" in two


def test_a_reviewer_with_no_assignment_sees_nothing_by_default(client, seeded_call):
    seeded = make_submission(seeded_call)
    make_submission(make_call())
    client.force_login(make_reviewer("frank"))

    assert listed(client) == set()
    response = client.get(reverse("admin:submissions_submission_change", args=[seeded.pk]))
    assert response.status_code == 404


def test_a_setting_lets_reviewers_with_no_assignment_see_the_seeded_call(
    client, settings, seeded_call
):
    settings.UNASSIGNED_REVIEWERS_SEE_SEEDED_CALL = True
    seeded = make_submission(seeded_call)
    make_submission(make_call())
    client.force_login(make_reviewer("frank"))

    assert listed(client) == {seeded.reference}


def test_the_setting_does_not_add_the_seeded_call_to_an_assigned_reviewer(
    client, settings, seeded_call, alice, work
):
    settings.UNASSIGNED_REVIEWERS_SEE_SEEDED_CALL = True
    make_submission(seeded_call)
    client.force_login(alice)

    assert listed(client) == {work[0].reference}


def test_an_inactive_user_sees_nothing(alice, work):
    from django.test import RequestFactory

    from submissions.review.access import visible_attachments, visible_submissions

    request = RequestFactory().get("/admin/")
    request.user = alice
    assert visible_submissions(request).exists()
    alice.is_active = False
    del request._reviewable_calls  # read again for the user as they now are
    assert not visible_submissions(request).exists()
    assert not visible_attachments(request).exists()


def test_a_call_manager_assigns_a_reviewer_on_the_calls_page(client, calls):
    mine, _ = calls
    erin = make_reviewer("grace")
    client.force_login(make_call_manager())
    page = client.get(reverse("admin:submissions_call_change", args=[mine.pk]))
    data = form_data(page.text)
    data.update(
        {
            "reviewer_assignments-TOTAL_FORMS": "1",
            "reviewer_assignments-0-reviewer": str(erin.pk),
            "reviewer_assignments-0-call": str(mine.pk),
        }
    )

    response = client.post(reverse("admin:submissions_call_change", args=[mine.pk]), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(CallReviewer.objects.values_list("call", "reviewer")) == [(mine.pk, erin.pk)]


def form_data(html: str) -> dict[str, str]:
    """Every field of the page's form with the value the browser would send."""
    from html.parser import HTMLParser

    data: dict[str, str] = {}

    class Form(HTMLParser):
        select = None
        textarea = None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            name = a.get("name")
            if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
                if a.get("type") in ("checkbox", "radio"):
                    if "checked" in a:
                        data[name] = a.get("value", "on")
                else:
                    data[name] = a.get("value", "")
            elif tag == "select" and name:
                self.select = name
                data.setdefault(name, "")
            elif tag == "option" and self.select and "selected" in a:
                data[self.select] = a.get("value", "")
            elif tag == "textarea" and name:
                self.textarea = name
                data[name] = ""

        def handle_endtag(self, tag):
            if tag == "select":
                self.select = None
            if tag == "textarea":
                self.textarea = None

        def handle_data(self, text):
            if self.textarea:
                data[self.textarea] += text

    Form().feed(html)
    # Django writes a newline after <textarea>, which the browser drops.
    return {k: v[1:] if v.startswith("\n") else v for k, v in data.items()}


@pytest.mark.parametrize("rows", [5, 60])
def test_a_reviewers_list_makes_the_same_queries_for_any_number_of_rows(
    client, alice, calls, rows, django_assert_num_queries
):
    for i in range(rows):
        make_submission(calls[i % 2])
    client.force_login(alice)

    # As for any reviewer (tests/test_admin_list.py): the call check is a subquery, not a query.
    with django_assert_num_queries(12):
        response = client.get(LIST_URL)

    assert len(response.context["cl"].result_list) == min((rows + 1) // 2, 50)
    assert Call.objects.count() == 3  # the seeded call, and the two of the fixture

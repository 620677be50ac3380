"""Exporting from the submissions list in admin: who may, what they get, and the audit trail."""

import csv
import io

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from submissions.models import ExportRecord, Submission, Theme
from tests.factories import (
    make_attachment,
    make_call,
    make_call_manager,
    make_reviewer,
    make_submission,
    make_superuser,
)

CHANGELIST = reverse("admin:submissions_submission_changelist")
EXPORT = reverse("admin:submissions_submission_export")


@pytest.fixture
def alice(db) -> User:
    """A reviewer: views submissions, may not export them."""
    return make_reviewer()


@pytest.fixture
def bob(db) -> User:
    """A call manager: views submissions and may export them."""
    return make_call_manager()


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def read_csv(response) -> list[dict[str, str]]:
    data = b"".join(response.streaming_content)
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def export_action(client: Client, submissions, query: str = "", **extra):
    data = {
        "action": "export_csv",
        "_selected_action": [s.pk for s in submissions],
        **extra,
    }
    return client.post(CHANGELIST + query, data)


def test_a_call_manager_sees_the_export_link_and_the_action(bob):
    make_submission(make_call())

    response = logged_in(bob).get(CHANGELIST + "?review_status__exact=new")

    assert response.status_code == 200
    assert "Export all matching to CSV" in response.text
    assert f'href="{EXPORT}?review_status__exact=new"' in response.text
    assert "Export selected submissions to CSV" in response.text


def test_a_reviewer_without_the_permission_sees_neither(alice):
    make_submission(make_call())

    response = logged_in(alice).get(CHANGELIST)

    assert response.status_code == 200
    assert "Export all matching to CSV" not in response.text
    assert "Export selected submissions to CSV" not in response.text


def test_the_export_link_refuses_a_reviewer_without_the_permission(alice):
    make_submission(make_call())

    response = logged_in(alice).get(EXPORT)

    assert response.status_code == 403
    assert not ExportRecord.objects.exists()


def test_the_export_action_is_not_offered_to_a_reviewer_even_when_posted(alice):
    submission = make_submission(make_call())
    client = logged_in(alice)

    response = export_action(client, [submission])

    assert not getattr(response, "streaming", False)
    assert response.status_code == 302
    assert response["Location"] == CHANGELIST
    assert "No action selected." in client.get(CHANGELIST).text
    assert not ExportRecord.objects.exists()


def test_the_export_action_itself_refuses_a_reviewer_without_the_permission(alice, rf):
    # The list offers the action only to those who may export; the action checks again, for
    # any other way in (another admin listing it, a custom view calling it).
    submission = make_submission(make_call())
    request = rf.post(CHANGELIST)
    request.user = alice
    model_admin = admin.site.get_model_admin(Submission)

    with pytest.raises(PermissionDenied):
        model_admin.export_csv(request, Submission.objects.filter(pk=submission.pk))

    assert not ExportRecord.objects.exists()


def test_someone_not_logged_in_is_sent_to_the_login_page(db):
    response = Client().get(EXPORT)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_export_all_matching_honours_the_lists_filters_and_search(bob):
    call = make_call()
    wanted = make_submission(call, review_status="shortlisted", organisation="UWE Bristol")
    make_submission(call, review_status="shortlisted", organisation="Cardiff University")
    make_submission(call, review_status="new", organisation="University of Bristol")
    make_submission(call, state=Submission.State.DRAFT, organisation="Bristol drafts")

    response = logged_in(bob).get(EXPORT + "?review_status__exact=shortlisted&q=Bristol")

    assert response.status_code == 200
    assert [row["Reference"] for row in read_csv(response)] == [wanted.reference]


def test_export_all_matching_covers_every_page_of_the_list(bob):
    call = make_call()
    submissions = [make_submission(call) for _ in range(3)]

    client = logged_in(bob)
    with pytest.MonkeyPatch.context() as patch:
        from submissions.review.admin.submissions import SubmissionAdmin

        patch.setattr(SubmissionAdmin, "list_per_page", 2)
        response = client.get(EXPORT + "?p=1")

    rows = read_csv(response)
    assert sorted(row["Reference"] for row in rows) == sorted(s.reference for s in submissions)


def test_invalid_filters_export_nothing_and_say_so(bob):
    response = logged_in(bob).get(EXPORT + "?no_such_field=1", follow=True)

    assert "Those filters are not valid, so nothing was exported." in response.text
    assert not ExportRecord.objects.exists()


def test_the_action_exports_only_the_selected_submissions(bob):
    call = make_call()
    first, second, _third = (make_submission(call) for _ in range(3))

    response = export_action(logged_in(bob), [first, second])

    assert response.status_code == 200
    rows = read_csv(response)
    assert sorted(row["Reference"] for row in rows) == sorted([first.reference, second.reference])


def test_the_action_across_all_pages_exports_everything_matching(bob):
    call = make_call()
    shortlisted = [make_submission(call, review_status="shortlisted") for _ in range(2)]
    make_submission(call, review_status="new")

    response = export_action(
        logged_in(bob),
        shortlisted[:1],
        query="?review_status__exact=shortlisted",
        select_across="1",
    )

    rows = read_csv(response)
    assert sorted(row["Reference"] for row in rows) == sorted(s.reference for s in shortlisted)


def test_the_download_streams_a_csv_attachment_that_no_cache_keeps(bob):
    make_submission(make_call())

    response = logged_in(bob).get(EXPORT)

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="submissions-')
    assert "no-store" in response["Cache-Control"]
    first_chunk = next(iter(response.streaming_content))
    assert first_chunk.startswith(b"\xef\xbb\xbfReference,Call,")


def test_each_export_is_recorded_with_who_how_the_filters_and_the_row_count(bob):
    call = make_call()
    for _ in range(2):
        make_submission(call, review_status="included")
    make_submission(call)

    response = logged_in(bob).get(EXPORT + "?review_status__exact=included&q=")
    record = ExportRecord.objects.get()
    assert record.completed_at is None  # nothing sent yet
    read_csv(response)

    record.refresh_from_db()
    assert record.user == bob
    assert record.username == "bob"
    assert record.source == ExportRecord.Source.ADMIN_ALL_MATCHING
    assert record.filters == {"review_status__exact": "included", "q": ""}
    assert record.row_count == 2
    assert record.completed_at is not None


def test_the_action_records_how_many_submissions_were_selected(bob):
    call = make_call()
    submissions = [make_submission(call) for _ in range(3)]

    read_csv(export_action(logged_in(bob), submissions[:2]))

    record = ExportRecord.objects.get()
    assert record.source == ExportRecord.Source.ADMIN_SELECTED
    assert record.filters == {"selected": 2}
    assert record.row_count == 2


# Serialized rollback restores the groups and the seeded call that the flush after it removes.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_download_cut_short_leaves_the_record_incomplete(bob):
    # Without the test's wrapping transaction, as in production: the COPY cut off mid-way must
    # leave the connection usable.
    call = make_call(questions=1)
    question = call.questions.get()
    for _ in range(40):  # about 200 KB: several chunks
        make_submission(call, answers={str(question.pk): "Evidence. " * 500})

    response = logged_in(bob).get(EXPORT)
    stream = iter(response.streaming_content)
    next(stream)  # the header
    next(stream)  # the first rows
    # The server closes the response when the browser goes away. Closing fires request_finished,
    # which would close the test's database connection: the test client disconnects it too.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)

    record = ExportRecord.objects.get()
    assert record.completed_at is None
    assert record.row_count is None
    assert Submission.objects.count() == 40


def test_the_export_view_makes_the_same_queries_for_1_row_as_for_20(bob):
    call = make_call()
    client = logged_in(bob)

    def queries_for_export() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            read_csv(client.get(EXPORT))
        return [query["sql"] for query in captured.captured_queries]

    make_submission(call)
    one_row = queries_for_export()
    for _ in range(19):
        make_submission(call)
    twenty_rows = queries_for_export()

    # The list's own queries (counts, filter choices) depend on the admin's list_filter; what
    # matters is that rows add none. tests/test_export.py pins the export's own queries.
    assert len(twenty_rows) == len(one_row)
    assert any("submissions_exportrecord" in sql for sql in twenty_rows)


def test_export_records_are_listed_in_admin_and_cannot_be_changed(db):
    ExportRecord.objects.create(
        username="bob", source=ExportRecord.Source.COMMAND, filters={"call": "x"}, row_count=5
    )
    client = logged_in(make_superuser())
    record = ExportRecord.objects.get()

    listing = client.get(reverse("admin:submissions_exportrecord_changelist"))
    change = client.get(reverse("admin:submissions_exportrecord_change", args=[record.pk]))
    add = client.get(reverse("admin:submissions_exportrecord_add"))
    delete = client.post(reverse("admin:submissions_exportrecord_delete", args=[record.pk]))

    assert listing.status_code == 200
    assert "Command line" in listing.text
    assert change.status_code == 200
    assert 'name="_save"' not in change.text
    assert add.status_code == 403
    assert delete.status_code == 403
    assert ExportRecord.objects.filter(pk=record.pk, row_count=5).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY statement is PostgreSQL's")
def test_export_all_matching_reads_the_table_once_filtering_it_directly(bob):
    """No `id IN (SELECT id ...)` of the table with itself, which is planned from row estimates
    (a nested loop, quadratic, on statistics from before a bulk load): one scan, filtered."""
    call = make_call()
    theme = Theme.objects.create(name="Podcasts")
    wanted = make_submission(call, is_late=True, organisation="UWE Bristol")
    wanted.themes.add(theme)
    make_attachment(wanted)
    make_submission(call, is_late=True, organisation="UWE Bristol")
    filters = (
        f"?is_late__exact=1&has_files=yes&theme={theme.pk}&q=Bristol&call__id__exact={call.pk}"
    )

    with CaptureQueriesContext(connection) as captured:
        rows = read_csv(logged_in(bob).get(EXPORT + filters))

    assert [row["Reference"] for row in rows] == [wanted.reference]
    (copy,) = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().startswith("COPY")]
    assert copy.count("submissions_submission") - copy.count("submissions_submission_themes") == 1
    assert " IN (SELECT" not in copy.upper()

"""Open data: each release's contributions as CSV and JSON, in a Data Package that validates,
built once when the release is published and served as built."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from frictionless import Package, system

from submissions.models import Release, Submission, Theme
from tests.factories import make_call, make_call_manager, make_reviewer, make_submission
from tests.publishing.helpers import body, csv_rows, get_file, json_rows, public_id, publish

pytestmark = pytest.mark.django_db

INCLUDED = Submission.ReviewStatus.INCLUDED
Credit = Submission.Credit
FILES = ("datapackage.json", "contributions.csv", "contributions.json")


def url(call, name: str) -> str:
    return reverse(name, args=[call.slug])


def file_url(call, name: str, number: int | None = None) -> str:
    if number is None:
        return reverse("open_data_file", args=[call.slug, name])
    return reverse("release_file", args=[call.slug, number, name])


@pytest.fixture
def call():
    call = make_call(questions=2)
    q1, q2 = call.questions.all()
    ada = make_submission(
        call,
        review_status=INCLUDED,
        name="Ada Lovelace",
        organisation="Analytical Engines",
        email="ada@example.org",
        role="Countess",
        orcid="0000-0002-1825-0097",
        answers={str(q1.pk): "First answer\nsecond line", str(q2.pk): '=HYPERLINK("x")'},
        links=["https://example.org/a", "https://example.org/b"],
        reviewer_notes="Reviewer secret",
    )
    ada.themes.set([Theme.objects.create(name="Young people"), Theme.objects.create(name="Art")])
    make_submission(
        call,
        review_status=INCLUDED,
        name="Hidden Name",
        organisation="Hidden Org",
        email="hidden@example.org",
        credit_preference=Credit.NONE,
        answers={str(q1.pk): "Anonymous answer"},
        links=[],
    )
    make_submission(
        call,
        review_status=INCLUDED,
        name="Withheld Person",
        organisation="Withheld Org",
        withheld_from_open_data=True,
        answers={str(q1.pk): "Withheld text"},
    )
    make_submission(call, review_status="not_included", answers={str(q1.pk): "Rejected text"})
    make_submission(
        call, review_status=INCLUDED, withdrawal_requested_at=timezone.now(), name="Gone"
    )
    publish(call)
    return call


def test_the_csv_holds_the_licensed_content_of_published_contributions_only(client, call):
    rows = csv_rows(client, call)
    ada = Submission.objects.get(name="Ada Lovelace")

    assert [row["credit"] for row in rows] == ["Ada Lovelace, Analytical Engines", ""]
    assert list(rows[0]) == [
        "public_id",
        "url",
        "first_release",
        "first_release_date",
        "credit",
        "themes",
        "question_1",
        "question_2",
        "links",
    ]
    assert rows[0]["public_id"] == public_id(ada)
    assert rows[0]["url"] == f"http://127.0.0.1:8000/{call.slug}/contributions/{public_id(ada)}/"
    assert rows[0]["first_release"] == "1"
    assert rows[0]["first_release_date"] == timezone.localdate().isoformat()
    assert rows[0]["themes"] == "Art; Young people"
    assert rows[0]["question_1"] == "First answer\nsecond line"
    assert rows[0]["question_2"] == '\'=HYPERLINK("x")'  # formula made text, as in the export
    assert rows[0]["links"] == "https://example.org/a\nhttps://example.org/b"
    assert rows[1]["question_1"] == "Anonymous answer"
    text = get_file(client, call, "contributions.csv").decode()
    assert "\r\n" in text
    for never in (
        "@example.org",
        "Countess",
        "0000-0002",
        "Reviewer secret",
        "Hidden Name",
        "Hidden Org",
        "Withheld",
        "Rejected",
        "Gone",
    ):
        assert never not in text
    for submission in Submission.objects.all():
        assert submission.reference not in text


def test_a_formula_after_a_break_and_spaces_is_text_in_the_csv(client):
    # The credit line joins people with "; ": a co-contributor's name follows a break and a space.
    call = make_call(questions=1)
    question = call.questions.get()
    make_submission(
        call,
        review_status=INCLUDED,
        name="Ann",
        organisation="Org",
        co_contributors=[{"name": "=1+cmd|' /C calc'!A0", "organisation": "", "orcid": ""}],
        answers={str(question.pk): "x; =1+3\n =1+4\t =1+5;\u00a0=1+9"},
        links=[],
    )
    publish(call)

    [row] = csv_rows(client, call)

    assert row["credit"] == "Ann, Org; '=1+cmd|' /C calc'!A0"
    assert row["question_1"] == "x; '=1+3\n '=1+4\t '=1+5;\u00a0'=1+9"
    assert json_rows(client, call)[0]["question_1"] == "x; =1+3\n =1+4\t =1+5;\u00a0=1+9"


def test_the_json_holds_the_same_rows_with_the_text_as_written(client, call):
    rows = json_rows(client, call)
    ada = Submission.objects.get(name="Ada Lovelace")

    assert rows[0] == {
        "public_id": public_id(ada),
        "url": f"http://127.0.0.1:8000/{call.slug}/contributions/{public_id(ada)}/",
        "first_release": 1,
        "first_release_date": timezone.localdate().isoformat(),
        "credit": "Ada Lovelace, Analytical Engines",
        "themes": ["Art", "Young people"],
        "question_1": "First answer\nsecond line",
        "question_2": '=HYPERLINK("x")',
        "links": ["https://example.org/a", "https://example.org/b"],
    }
    assert rows[1]["credit"] == "" and rows[1]["links"] == []
    assert len(rows) == 2


def test_the_package_names_the_release_its_version_and_its_date(client, call):
    release = Release.objects.get(call=call)
    package = json.loads(get_file(client, call, "datapackage.json"))

    assert package["version"] == "1.0.0"
    assert package["created"] == release.published_at.astimezone(
        timezone.get_current_timezone()
    ).isoformat(timespec="seconds")
    assert package["id"] == f"http://127.0.0.1:8000/{call.slug}/open-data/releases/1/"
    assert package["licenses"] == [
        {
            "name": "CC-BY-NC-4.0",
            "path": "https://creativecommons.org/licenses/by-nc/4.0/",
            "title": "Creative Commons Attribution-NonCommercial 4.0 International",
        }
    ]
    assert [s["path"] for s in package["sources"]] == [
        f"http://127.0.0.1:8000/{call.slug}/",
        f"http://127.0.0.1:8000/{call.slug}/credits/",
    ]
    assert call.title in package["attribution"] and "CC-BY-NC-4.0" in package["attribution"]
    assert "1 contributor asked not to be named" in package["description"]
    assert "@example.org" not in json.dumps(package)
    titles = [f["title"] for f in package["resources"][0]["schema"]["fields"]]
    assert titles == [
        "Public id",
        "Page",
        "First release",
        "First release date",
        "Credit line",
        "Themes",
        "Question 1",
        "Question 2",
        "Links",
    ]


def test_the_package_is_created_when_published_not_when_downloaded(client, call, time_machine):
    first = get_file(client, call, "datapackage.json")
    time_machine.move_to(timezone.now() + timedelta(days=3))

    assert get_file(client, call, "datapackage.json") == first


def validate(client, call, number: int, folder) -> Package:
    folder.mkdir()
    for name in FILES:
        (folder / name).write_bytes(get_file(client, call, name, number))
    with system.use_context(trusted=True):
        package = Package(str(folder / "datapackage.json"))
        report = package.validate()
    assert report.valid, report.flatten(["type", "note"])
    return package


def test_every_release_validates_with_frictionless(client, call, tmp_path):
    make_submission(call, review_status=INCLUDED, name="Second Release", links=[])
    publish(call)

    first = validate(client, call, 1, tmp_path / "1")
    second = validate(client, call, 2, tmp_path / "2")

    assert [r.read_rows().__len__() for r in first.resources] == [2, 2]
    assert [r.read_rows().__len__() for r in second.resources] == [3, 3]
    csv_resource, json_resource = second.resources
    assert csv_resource.read_rows()[0]["question_1"] == "First answer\nsecond line"
    assert json_resource.read_rows()[0]["links"] == [
        "https://example.org/a",
        "https://example.org/b",
    ]
    assert json_resource.read_rows()[0]["themes"] == ["Art", "Young people"]


def test_earlier_releases_stay_downloadable_as_they_were(client, call):
    before = {name: get_file(client, call, name, 1) for name in FILES}
    make_submission(call, review_status=INCLUDED, name="Second Release")
    publish(call)

    assert {name: get_file(client, call, name, 1) for name in FILES} == before
    assert len(json_rows(client, call, 1)) == 2
    assert len(json_rows(client, call)) == 3  # the latest, at the unnumbered address
    assert get_file(client, call, "contributions.csv") == get_file(
        client, call, "contributions.csv", 2
    )


def test_a_file_downloads_again_as_the_same_bytes_with_its_etag(client, call):
    for name in FILES:
        first = client.get(file_url(call, name, 1))
        second = client.get(file_url(call, name, 1))
        first_bytes = body(first)
        assert first_bytes == body(second)
        assert first["ETag"] == second["ETag"] and first["ETag"].startswith('"')
        assert first["Cache-Control"] == "public, no-cache"
        assert "Last-Modified" in first
        assert int(first["Content-Length"]) == len(first_bytes)


def test_a_reader_who_has_the_file_gets_a_304(client, call, django_assert_num_queries):
    for name in FILES:
        first = client.get(file_url(call, name, 1))
        body(first)
        etag = first["ETag"]
        with django_assert_num_queries(2):  # the call, this release
            response = client.get(file_url(call, name, 1), headers={"if-none-match": etag})
        assert response.status_code == 304
        with django_assert_num_queries(1):  # the latest release with its call
            response = client.get(file_url(call, name), headers={"if-none-match": etag})
        assert response.status_code == 304
        assert response["ETag"] == etag
        changed = client.get(file_url(call, name, 1), headers={"if-none-match": '"other"'})
        assert changed.status_code == 200
        body(changed)


def test_the_files_may_be_read_from_any_site(client, call):
    for name in FILES:
        response = client.get(file_url(call, name))
        body(response)
        assert response["Access-Control-Allow-Origin"] == "*"


def test_the_open_data_page_links_the_files_and_every_release(client, call):
    make_submission(call, review_status=INCLUDED, name="Second Release")
    publish(call, notes="One new contribution.")

    response = client.get(url(call, "open_data"))

    assert response.status_code == 200
    for name in FILES:
        assert f'href="{file_url(call, name, 2)}"' in response.text
    assert f'href="{reverse("release_page", args=[call.slug, 1])}"' in response.text
    assert "One new contribution." in response.text
    assert 'href="https://creativecommons.org/licenses/by-nc/4.0/"' in response.text
    assert f'href="{reverse("releases_feed", args=[call.slug])}"' in response.text
    older = client.get(reverse("release_page", args=[call.slug, 1]))
    assert "This is release 1. The latest is" in older.text
    assert client.get(reverse("release_page", args=[call.slug, 3])).status_code == 404


def test_nothing_is_published_before_a_release(client):
    call = make_call()
    make_submission(call, review_status=INCLUDED)

    for path in (
        url(call, "open_data"),
        url(call, "releases_feed"),
        *(file_url(call, n) for n in FILES),
    ):
        assert client.get(path).status_code == 404
    assert client.get(file_url(call, "contributions.csv", 1)).status_code == 404


def test_staff_written_question_titles_are_escaped_on_the_page(client):
    call = make_call(questions=1)
    call.questions.update(short_title="<b>bold</b>", text="<script>alert(1)</script>")
    make_submission(call, review_status=INCLUDED)
    publish(call)

    page = client.get(url(call, "open_data")).text

    assert "<script>alert" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("count", [2, 40])
def test_the_files_make_a_fixed_number_of_queries(client, django_assert_num_queries, count):
    call = make_call(questions=3)
    for n in range(count):
        make_submission(call, review_status=INCLUDED, name=f"Person {n}")
    publish(call)

    for path, queries in [
        (file_url(call, "contributions.csv"), 2),  # the latest release with its call, segments
        (file_url(call, "contributions.json"), 2),
        (file_url(call, "datapackage.json"), 1),  # the latest release with its call
        (url(call, "open_data"), 3),  # the call, its latest release, every release
    ]:
        with django_assert_num_queries(queries):
            response = client.get(path)
            body(response)


def test_the_files_are_built_in_segments_and_served_end_to_end(client, monkeypatch):
    from submissions.publishing import releases

    monkeypatch.setattr(releases, "SEGMENT_ROWS", 2)
    call = make_call(questions=1)
    for n in range(5):
        make_submission(call, review_status=INCLUDED, name=f"Person {n}")
    release = publish(call)

    assert release.segments.count() == 3
    assert [row["credit"] for row in json_rows(client, call)] == [
        f"Person {n}, University of Somewhere" for n in range(5)
    ]
    assert len(csv_rows(client, call)) == 5


def review_form(**changes) -> dict:
    values = {"review_status": "included", "reviewer_notes": "", "assigned_reviewer": ""}
    values.update(changes)
    return values


def test_a_call_manager_withholds_a_contribution_in_the_admin_and_it_is_in_the_history(client):
    call = make_call(questions=1)
    submission = make_submission(call, review_status=INCLUDED, name="Withheld Credit")
    make_submission(call, review_status=INCLUDED, name="Still Here")
    publish(call)
    client.force_login(make_call_manager(first_name="Bob", last_name="Manager"))
    change_url = reverse("admin:submissions_submission_change", args=[submission.pk])

    response = client.post(change_url, review_form(withheld_from_open_data="on"))

    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.withheld_from_open_data
    change = submission.review_changes.get()
    assert (change.field, change.old_value, change.new_value, change.changed_by_name) == (
        "withheld_from_open_data",
        "No",
        "Yes",
        "Bob Manager",
    )
    assert [row["credit"] for row in json_rows(client, call)] == [
        "Still Here, University of Somewhere"
    ]
    assert "Withheld Credit" not in client.get(url(call, "credits")).text


def test_a_reviewer_cannot_withhold_a_contribution(client):
    call = make_call(questions=1)
    submission = make_submission(call, review_status=INCLUDED)
    client.force_login(make_reviewer())
    change_url = reverse("admin:submissions_submission_change", args=[submission.pk])

    assert 'name="withheld_from_open_data"' not in client.get(change_url).text
    client.post(change_url, review_form(withheld_from_open_data="on"))

    submission.refresh_from_db()
    assert not submission.withheld_from_open_data


def test_a_process_streams_a_few_files_at_once_and_asks_the_rest_to_come_back(client, call):
    from submissions.publishing.views import DOWNLOADS

    held = 0
    while DOWNLOADS.acquire(blocking=False):  # every slot busy with another download
        held += 1
    try:
        busy = client.get(file_url(call, "contributions.csv"))
        etag = client.get(file_url(call, "datapackage.json"))["ETag"]  # not a stream: served
    finally:
        for _ in range(held):
            DOWNLOADS.release()

    assert held == 2  # OPEN_DATA_DOWNLOADS_PER_PROCESS
    assert (busy.status_code, busy["Retry-After"]) == (503, "2")
    assert etag
    response = client.get(file_url(call, "contributions.csv"))
    assert response.status_code == 200
    body(response)  # read to its end: the slot is given back
    assert DOWNLOADS.acquire(blocking=False) and DOWNLOADS.acquire(blocking=False)
    DOWNLOADS.release()
    DOWNLOADS.release()


def test_each_answer_is_released_as_stored_whatever_it_holds(client):
    """The answers are taken out of the stored JSON in the database (on PostgreSQL all of a
    row's at once): quotes, backslashes, escapes, other scripts, a key that looks like a
    number or an index, an answer left out, each in its own column."""
    call = make_call(questions=3)
    q1, q2, q3 = call.questions.all()
    awkward = 'He said "no" \\ then \\"yes\\"\r\n\t— 😀 محمد\u2028 {"a": [1]} \\u0041'
    texts = [
        {str(q1.pk): awkward, str(q2.pk): "", str(q3.pk): "Third"},
        {str(q2.pk): "Only the second", "0": "not a question", str(q3.pk + 100): "another call's"},
        {},
    ]
    for n, answers in enumerate(texts):
        make_submission(call, review_status=INCLUDED, name=f"P{n}", answers=answers, links=[])
    publish(call)

    rows = json_rows(client, call)
    assert [[row[f"question_{n}"] for n in (1, 2, 3)] for row in rows] == [
        [awkward, "", "Third"],
        ["", "Only the second", ""],
        ["", "", ""],
    ]
    cells = [[row[f"question_{n}"] for n in (1, 2, 3)] for row in csv_rows(client, call)]
    assert cells[0] == [awkward, "", "Third"]
    assert cells[1] == ["", "Only the second", ""]


def test_a_call_without_questions_publishes_its_credits_and_links(client):
    call = make_call(questions=0)
    make_submission(call, review_status=INCLUDED, name="Ann", organisation="Org", links=[])
    publish(call)

    [row] = json_rows(client, call)
    assert row["credit"] == "Ann, Org" and row["links"] == []

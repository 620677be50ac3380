"""Open data: the included contributions as CSV and JSON, in a Data Package that validates."""

import csv
import io
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from frictionless import Package, system

from submissions.models import Submission
from tests.factories import make_call, make_call_manager, make_reviewer, make_submission

pytestmark = pytest.mark.django_db

INCLUDED = Submission.ReviewStatus.INCLUDED
Credit = Submission.Credit


def url(call, name: str) -> str:
    return reverse(name, args=[call.slug])


def get_bytes(client, call, name: str) -> bytes:
    response = client.get(url(call, name))
    assert response.status_code == 200, name
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(client, call) -> list[dict]:
    return list(csv.DictReader(io.StringIO(get_bytes(client, call, "open_data_csv").decode())))


def json_rows(client, call) -> list[dict]:
    return json.loads(get_bytes(client, call, "open_data_json"))


@pytest.fixture
def call():
    call = make_call(questions=2)
    q1, q2 = call.questions.all()
    make_submission(
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
    return call


def test_the_csv_holds_the_licensed_content_of_included_contributions_only(client, call):
    rows = csv_rows(client, call)

    assert [row["credit"] for row in rows] == ["Ada Lovelace, Analytical Engines", ""]
    assert list(rows[0]) == ["credit", "question_1", "question_2", "links"]
    assert rows[0]["question_1"] == "First answer\nsecond line"
    assert rows[0]["question_2"] == '\'=HYPERLINK("x")'  # formula made text, as in the export
    assert rows[0]["links"] == "https://example.org/a\nhttps://example.org/b"
    assert rows[1]["question_1"] == "Anonymous answer"
    body = get_bytes(client, call, "open_data_csv").decode()
    assert "\r\n" in body
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
        assert never not in body
    for submission in Submission.objects.all():
        assert submission.reference not in body


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

    [row] = csv_rows(client, call)

    assert row["credit"] == "Ann, Org; '=1+cmd|' /C calc'!A0"
    assert row["question_1"] == "x; '=1+3\n '=1+4\t '=1+5;\u00a0'=1+9"
    assert json_rows(client, call)[0]["question_1"] == "x; =1+3\n =1+4\t =1+5;\u00a0=1+9"


def test_the_json_holds_the_same_rows_with_the_text_as_written(client, call):
    rows = json_rows(client, call)

    assert rows[0] == {
        "credit": "Ada Lovelace, Analytical Engines",
        "question_1": "First answer\nsecond line",
        "question_2": '=HYPERLINK("x")',
        "links": ["https://example.org/a", "https://example.org/b"],
    }
    assert rows[1]["credit"] == "" and rows[1]["links"] == []
    assert len(rows) == 2


def test_a_withheld_contribution_is_still_credited(client, call):
    package = json.loads(get_bytes(client, call, "open_data_package"))

    assert {"title": "Withheld Person, Withheld Org", "role": "author"} in package["contributors"]
    assert "Withheld Person, Withheld Org" in client.get(url(call, "credits")).text


def test_the_package_carries_the_licence_sources_and_attribution(client, call):
    package = json.loads(get_bytes(client, call, "open_data_package"))

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
    assert [c["title"] for c in package["contributors"]] == [
        "Ada Lovelace, Analytical Engines",
        "Withheld Person, Withheld Org",
    ]
    assert "1 contributor who asked not to be named" in package["description"]
    assert "@example.org" not in json.dumps(package)
    titles = [f["title"] for f in package["resources"][0]["schema"]["fields"]]
    assert titles == ["Credit line", "Question 1", "Question 2", "Links"]


def test_the_package_validates_with_frictionless(client, call, tmp_path):
    for name, filename in [
        ("open_data_package", "datapackage.json"),
        ("open_data_csv", "contributions.csv"),
        ("open_data_json", "contributions.json"),
    ]:
        (tmp_path / filename).write_bytes(get_bytes(client, call, name))

    with system.use_context(trusted=True):
        package = Package(str(tmp_path / "datapackage.json"))
        report = package.validate()

    assert report.valid, report.flatten(["type", "note"])
    assert report.stats["tasks"] == 2
    assert [task.stats["rows"] for task in report.tasks] == [2, 2]
    # Both files hold the same table.
    csv_resource, json_resource = package.resources
    assert csv_resource.read_rows()[0]["question_1"] == "First answer\nsecond line"
    assert json_resource.read_rows()[0]["links"] == [
        "https://example.org/a",
        "https://example.org/b",
    ]


def test_the_open_data_page_links_the_three_files(client, call):
    response = client.get(url(call, "open_data"))

    assert response.status_code == 200
    for name in ("open_data_package", "open_data_csv", "open_data_json"):
        assert f'href="{url(call, name)}"' in response.text
    assert response.context["count"] == 2
    assert 'href="https://creativecommons.org/licenses/by-nc/4.0/"' in response.text


def test_the_files_may_be_read_from_any_site(client, call):
    for name in ("open_data_package", "open_data_csv", "open_data_json"):
        assert client.get(url(call, name))["Access-Control-Allow-Origin"] == "*"


def test_nothing_is_published_before_anything_is_included(client):
    call = make_call()
    make_submission(call)

    for name in ("open_data", "open_data_package", "open_data_csv", "open_data_json"):
        assert client.get(url(call, name)).status_code == 404


def test_staff_written_question_titles_are_escaped_on_the_page(client):
    call = make_call(questions=1)
    call.questions.update(short_title="<b>bold</b>", text="<script>alert(1)</script>")
    make_submission(call, review_status=INCLUDED)

    page = client.get(url(call, "open_data")).text

    assert "<script>alert" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("count", [2, 40])
def test_the_files_make_a_fixed_number_of_queries(client, django_assert_num_queries, count):
    call = make_call(questions=3)
    for n in range(count):
        make_submission(call, review_status=INCLUDED, name=f"Person {n}")

    for name, queries in [
        ("open_data_csv", 3),  # the call, its questions, the rows
        ("open_data_json", 3),
        ("open_data_package", 3),  # the call, its questions, the credit lines
        ("open_data", 3),  # the call, the count, the questions
    ]:
        with django_assert_num_queries(queries):
            get_bytes(client, call, name)


def review_form(**changes) -> dict:
    values = {"review_status": "included", "reviewer_notes": "", "assigned_reviewer": ""}
    values.update(changes)
    return values


def test_a_call_manager_withholds_a_contribution_in_the_admin_and_it_is_in_the_history(client):
    call = make_call(questions=1)
    submission = make_submission(call, review_status=INCLUDED, name="Kept Credit")
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
    assert json_rows(client, call) == []
    assert "Kept Credit" in client.get(url(call, "credits")).text


def test_a_reviewer_cannot_withhold_a_contribution(client):
    call = make_call(questions=1)
    submission = make_submission(call, review_status=INCLUDED)
    client.force_login(make_reviewer())
    change_url = reverse("admin:submissions_submission_change", args=[submission.pk])

    assert 'name="withheld_from_open_data"' not in client.get(change_url).text
    client.post(change_url, review_form(withheld_from_open_data="on"))

    submission.refresh_from_db()
    assert not submission.withheld_from_open_data

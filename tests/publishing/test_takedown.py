"""A withdrawal request, an erasure or "withhold" takes a contribution off every public page and
file of every release at once, and leaves every other row's bytes as they were."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from submissions.models import Release, ReleaseSegment, Submission
from submissions.publishing import releases
from submissions.publishing.releases import publish_release, take_down
from tests.factories import make_call, make_call_manager, make_submission
from tests.publishing.helpers import INCLUDED, body, get_file, json_rows, page_url, publish
from tests.races import InThread, finish

pytestmark = pytest.mark.django_db

FILES = ("contributions.csv", "contributions.json")


@pytest.fixture
def two_releases(monkeypatch):
    """Seven contributions in two releases, two rows to a segment."""
    monkeypatch.setattr(releases, "SEGMENT_ROWS", 2)
    call = make_call(questions=1)
    people = [
        make_submission(call, review_status=INCLUDED, name=f"Person {n}", email=f"p{n}@example.org")
        for n in range(5)
    ]
    publish(call)
    people += [make_submission(call, review_status=INCLUDED, name=f"Person {n}") for n in (5, 6)]
    publish(call)
    return call, people


def everything_public(client, call, submission) -> str:
    """Every public page and file of every release, as one text to search."""
    paths = [
        reverse("credits", args=[call.slug]),
        reverse("open_data", args=[call.slug]),
        reverse("releases_feed", args=[call.slug]),
    ]
    for release in Release.objects.filter(call=call):
        paths.append(reverse("release_page", args=[call.slug, release.number]))
        for name in (*FILES, "datapackage.json"):
            paths.append(reverse("release_file", args=[call.slug, release.number, name]))
    return "\n".join(body(client.get(path)).decode() for path in paths)


def fetched(client, call, number: int):
    """Release `number`'s CSV, read to its end (which gives its download slot back)."""
    response = client.get(reverse("release_file", args=[call.slug, number, FILES[0]]))
    body(response)
    return response


def without_row(before: bytes, credit: str, kind: str) -> bytes:
    if kind == "csv":
        lines = before.split(b"\r\n")
        return b"\r\n".join(line for line in lines if credit.encode() not in line)
    rows = [r for r in __import__("json").loads(before) if r["credit"] != credit]
    return __import__("json").dumps(rows, ensure_ascii=False).encode()


def test_a_withdrawal_request_takes_it_off_every_release_at_once(client, two_releases):
    call, people = two_releases
    gone = people[2]
    line = gone.credit_line()
    page = page_url(call, gone)
    before = {(n, name): get_file(client, call, name, n) for n in (1, 2) for name in FILES}
    etags = {n: fetched(client, call, n)["ETag"] for n in (1, 2)}
    assert line in everything_public(client, call, gone)

    assert gone.request_withdrawal()
    take_down(gone)

    assert line not in everything_public(client, call, gone)
    assert client.get(page).status_code == 410
    for number in (1, 2):
        csv_now = get_file(client, call, "contributions.csv", number)
        assert csv_now == without_row(before[number, "contributions.csv"], line, "csv")
        assert [r["credit"] for r in json_rows(client, call, number)] == [
            p.credit_line() for p in people[: 5 if number == 1 else 7] if p != gone
        ]
        response = fetched(client, call, number)
        assert response["ETag"] != etags[number]
        assert response.status_code == 200
        # A reader holding the old bytes is not told "not modified".
        old = client.get(
            reverse("release_file", args=[call.slug, number, FILES[0]]),
            headers={"if-none-match": etags[number]},
        )
        assert old.status_code == 200
        body(old)
    release = Release.objects.get(call=call, number=2)
    assert (release.contribution_count, release.revision) == (6, 1)
    assert release.amended_at is not None
    assert '"version": "2.0.1"' in get_file(client, call, "datapackage.json", 2).decode()


def test_the_status_page_withdrawal_takes_it_down_in_the_same_request(client, two_releases):
    from submissions.models.links import status_link_url

    call, people = two_releases
    gone = people[0]
    contributor = Client()
    contributor.get(status_link_url(gone).removeprefix("http://127.0.0.1:8000"), follow=True)

    contributor.post(
        reverse("status_page", args=[call.slug]),
        {"action": "withdraw", "withdraw-confirm": "on"},
    )

    assert gone.credit_line() not in everything_public(client, call, gone)
    assert client.get(page_url(call, gone)).status_code == 410


def test_an_erasure_takes_it_off_and_its_page_then_says_no_longer_published(client, two_releases):
    call, people = two_releases
    gone = people[4]
    page = page_url(call, gone)
    staff = Client()
    staff.force_login(make_call_manager())

    response = staff.post(
        reverse("admin:submissions_submission_delete", args=[gone.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Submission.objects.filter(pk=gone.pk).exists()
    assert "Person 4" not in everything_public(client, call, gone)
    gone_page = client.get(page)
    assert gone_page.status_code == 410
    assert "This contribution is no longer published" in gone_page.text
    assert "Person 4" not in gone_page.text
    assert [r["credit"] for r in json_rows(client, call, 1)] == [
        p.credit_line() for p in people[:4]
    ]


def test_withholding_in_the_admin_takes_it_off_at_once(client, two_releases):
    call, people = two_releases
    gone = people[5]  # only in release 2
    staff = Client()
    staff.force_login(make_call_manager())

    staff.post(
        reverse("admin:submissions_submission_change", args=[gone.pk]),
        {
            "review_status": "included",
            "reviewer_notes": "",
            "assigned_reviewer": "",
            "withheld_from_open_data": "on",
        },
    )

    assert "Person 5" not in everything_public(client, call, gone)
    assert Release.objects.get(call=call, number=1).revision == 0  # release 1 never held it
    assert Release.objects.get(call=call, number=2).revision == 1


def test_an_emptied_segment_serves_nothing_and_the_json_stays_valid(client, two_releases):
    call, people = two_releases
    for gone in people[:2]:  # the whole of release 1's first segment
        take_down(gone)

    rows = json_rows(client, call, 1)

    assert [r["credit"] for r in rows] == [p.credit_line() for p in people[2:5]]
    first = ReleaseSegment.objects.get(release__number=1, release__call=call, index=0)
    assert (first.rows, first.csv_name, first.json_name) == (0, "", "")


def test_the_old_segment_files_are_deleted(client, two_releases, settings):
    from submissions.models import release_storage

    call, people = two_releases
    segment = ReleaseSegment.objects.get(release__number=1, release__call=call, index=1)
    old_names = [segment.csv_name, segment.json_name]
    assert all(release_storage().exists(name) for name in old_names)

    with pytest.MonkeyPatch.context():
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            take_down(people[2])

    assert not any(release_storage().exists(name) for name in old_names)


def test_taking_down_what_no_release_holds_changes_nothing(client, two_releases):
    call, _people = two_releases
    unpublished = make_submission(call, review_status="new")

    assert take_down(unpublished) == 0
    assert take_down(10**9) == 0
    assert set(Release.objects.values_list("revision", flat=True)) == {0}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
def test_a_withdrawal_during_a_publication_is_not_in_the_release(client):
    """The withdrawal commits its request, then waits for the release being published (which
    read the contribution as publishable) and takes it out of it."""
    call = make_call(questions=1)
    kept = make_submission(call, review_status=INCLUDED, name="Kept Person")
    gone = make_submission(call, review_status=INCLUDED, name="Gone Person")
    reading = threading.Event()
    withdrawn = threading.Event()
    original = releases.write_release

    def slow_write(*args, **kwargs):
        original(*args, **kwargs)
        reading.set()  # the rows are read and written; the release has not committed
        withdrawn.wait(timeout=2)  # the withdrawal is now waiting for the call's lock

    def withdraw() -> None:
        reading.wait(timeout=20)
        from django.db import transaction

        with transaction.atomic():
            gone.request_withdrawal()
            withdrawn.set()
            take_down(gone)

    releases.write_release = slow_write
    try:
        thread = InThread(withdraw)
        assert publish_release(call, number=1) is not None
        finish(thread, timeout=30)
    finally:
        releases.write_release = original

    assert [r["credit"] for r in json_rows(client, call)] == [kept.credit_line()]
    assert client.get(page_url(call, gone)).status_code == 410

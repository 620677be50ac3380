"""A big release is published by the task worker: the call manager's press asks for it, the
release page shows how far it has got, nothing is public until all of it is, and a second press
(or a second call manager) publishes nothing more."""

import pytest
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from submissions.models import Release, ReleaseJob
from submissions.publishing.release_job import request_release
from tests.factories import make_call, make_call_manager, make_submission
from tests.publishing.helpers import INCLUDED, publish
from tests.worker import run_worker

pytestmark = pytest.mark.django_db

State = ReleaseJob.State


def releases_url(call) -> str:
    return reverse("admin:submissions_call_releases", args=[call.pk])


def publish_form(number: int) -> dict:
    return {"number": number, "notes": "Big one.", "checked": "on"}


def release_tasks() -> int:
    return DBTaskResult.objects.filter(task_path__endswith="publish_release_job").count()


@pytest.fixture
def big(settings):
    """Every release counts as big: above RELEASE_IN_REQUEST_MAX (here 1) contributions."""
    settings.RELEASE_IN_REQUEST_MAX = 1
    call = make_call()
    for name in ("Ada Lovelace", "Grace Hopper"):
        make_submission(call, review_status=INCLUDED, name=name)
    return call


@pytest.fixture
def manager_client():
    client = Client()
    client.force_login(make_call_manager(first_name="Bob", last_name="Manager"))
    return client


def test_the_press_asks_the_worker_and_nothing_is_public_until_it_has_published(
    big, manager_client, client
):
    response = manager_client.post(releases_url(big), publish_form(1), follow=True)

    assert not Release.objects.exists()
    job = ReleaseJob.objects.get(call=big)
    assert (job.state, job.number, job.total, job.requested_by_name) == (
        State.WAITING,
        1,
        2,
        "Bob Manager",
    )
    assert release_tasks() == 1
    assert "Release 1 is being published by the service&#x27;s worker" in response.text
    assert "Release 1: waiting for the worker" in response.text
    assert "2 contributions to publish" in response.text
    assert 'value="Publish release 1"' not in response.text
    assert client.get(reverse("credits", args=[big.slug])).status_code == 404

    run_worker()

    release = Release.objects.get(call=big)
    assert (release.number, release.contribution_count, release.notes) == (1, 2, "Big one.")
    assert release.published_by_name == "Bob Manager"
    job.refresh_from_db()
    assert (job.state, job.release) == (State.DONE, release)
    page = manager_client.get(releases_url(big))
    assert "Nothing has changed since release 1." in page.text
    assert "being published" not in page.text
    assert "Ada Lovelace" in client.get(reverse("credits", args=[big.slug])).text


def test_the_page_updates_itself_while_the_worker_publishes_until_told_to_stop(big, manager_client):
    manager_client.post(releases_url(big), publish_form(1))

    updating = manager_client.get(releases_url(big))
    still = manager_client.get(releases_url(big) + "?updates=off")

    assert '<meta http-equiv="refresh" content="5">' in updating.text
    assert "review/poll_status.js" in updating.text
    assert 'data-refresh="5"' in updating.text
    assert "refresh" not in still.text.split("<body")[0]
    assert "This page no longer updates itself" in still.text


def test_its_page_shows_how_far_it_has_got(big, manager_client):
    manager_client.post(releases_url(big), publish_form(1))
    ReleaseJob.objects.filter(call=big).update(state=State.PUBLISHING, done=1)

    page = manager_client.get(releases_url(big))

    assert "Release 1: being published" in page.text
    assert "1 of 2 contributions written (50%)" in page.text
    assert '<progress id="release-job-progress" max="2" value="1">50%</progress>' in page.text


def test_its_page_makes_a_fixed_number_of_queries_while_it_is_published(
    big, manager_client, django_assert_num_queries
):
    manager_client.post(releases_url(big), publish_form(1))
    manager_client.get(releases_url(big))  # the session, the user and their permissions cached

    # Session, user, the user's permissions (2), the call, latest release, the job, releases.
    with django_assert_num_queries(8):
        page = manager_client.get(releases_url(big))
    assert "Release 1: waiting for the worker" in page.text


def test_a_second_press_while_it_waits_starts_nothing(big, manager_client):
    manager_client.post(releases_url(big), publish_form(1))
    other = Client()
    other.force_login(make_call_manager(username="frank"))

    response = other.post(releases_url(big), publish_form(1), follow=True)

    assert release_tasks() == 1
    assert (
        "Release 1 is already being published (a second press, or another call manager): "
        "nothing was started again."
    ) in response.text
    run_worker()
    assert Release.objects.filter(call=big).count() == 1


def test_a_job_whose_release_was_published_meanwhile_publishes_nothing(big):
    job, started = request_release(big, number=1)
    publish(big)  # e.g. a job taken for lost, asked again, and the first one finished after all

    run_worker()

    job.refresh_from_db()
    assert started and job.state == State.FAILED
    assert job.problem == "Release 1 was already published: nothing was published again."
    assert Release.objects.filter(call=big).count() == 1


def test_a_job_that_stopped_can_be_asked_again(big, manager_client):
    job, _ = request_release(big, number=1)
    ReleaseJob.objects.filter(pk=job.pk).update(
        state=State.PUBLISHING, stalls_at="2000-01-01T00:00:00Z"
    )

    page = manager_client.get(releases_url(big))
    assert "Release 1, asked for on" in page.text and "seems to have stopped" in page.text
    assert 'value="Publish release 1"' in page.text
    manager_client.post(releases_url(big), publish_form(1))

    assert release_tasks() == 2
    run_worker()
    assert Release.objects.get(call=big).contribution_count == 2
    assert ReleaseJob.objects.get(call=big).state == State.DONE


def test_a_failure_is_shown_and_publishes_nothing(big, manager_client, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("submissions.publishing.release_job.publish_release", broken)
    manager_client.post(releases_url(big), publish_form(1))

    run_worker()

    assert not Release.objects.exists()
    page = manager_client.get(releases_url(big))
    assert "Release 1 was not published: OSError: disk full" in page.text
    assert 'value="Publish release 1"' in page.text


def test_a_small_release_is_still_published_at_once(manager_client, settings):
    settings.RELEASE_IN_REQUEST_MAX = 5
    call = make_call()
    make_submission(call, review_status=INCLUDED)

    manager_client.post(releases_url(call), publish_form(1))

    assert Release.objects.get(call=call).contribution_count == 1
    assert release_tasks() == 0 and not ReleaseJob.objects.exists()

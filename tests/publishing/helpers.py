"""Publishing in tests: a release of a call, and its pages and files as a reader gets them."""

import csv
import io
import json

from django.urls import reverse

from submissions.models import Release, Submission
from submissions.publishing.releases import latest_release, publish_release

INCLUDED = Submission.ReviewStatus.INCLUDED


def publish(call, by=None, notes: str = "") -> Release:
    """Publish the call's next release, as a call manager pressing the button."""
    latest = latest_release(call)
    release = publish_release(call, number=(latest.number if latest else 0) + 1, by=by, notes=notes)
    assert release is not None
    return release


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def get_file(client, call, name: str, number: int | None = None) -> bytes:
    if number is None:
        url = reverse("open_data_file", args=[call.slug, name])
    else:
        url = reverse("release_file", args=[call.slug, number, name])
    response = client.get(url)
    assert response.status_code == 200, (name, response.status_code)
    return body(response)


def csv_rows(client, call, number: int | None = None) -> list[dict]:
    text = get_file(client, call, "contributions.csv", number).decode()
    return list(csv.DictReader(io.StringIO(text)))


def json_rows(client, call, number: int | None = None) -> list[dict]:
    return json.loads(get_file(client, call, "contributions.json", number))


def public_id(submission: Submission) -> str:
    return Submission.objects.get(pk=submission.pk).public.public_id


def page_url(call, submission: Submission) -> str:
    return reverse("contribution", args=[call.slug, public_id(submission)])

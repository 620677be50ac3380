"""The S3 path, against a real S3 API: moto's server, started by this test session on loopback."""

import json
import os
import socket
import subprocess
import sys
import uuid
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse

from submissions.journey.file_checks import check_upload
from submissions.models import Attachment, Submission

from .. import samples
from ..factories import make_reviewer, make_staff_without_group
from ..files import draft_at_files_step, upload

pytestmark = pytest.mark.django_db

PORTS = range(8500, 8600)  # this project's share of loopback ports
REGION = "eu-west-2"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("No free port in 8500-8599 for the S3 server")


@pytest.fixture(scope="session")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint):
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **CREDENTIALS)


@pytest.fixture
def bucket(s3, s3_endpoint, settings, attachments_root):
    """A new private bucket per test, configured as production configures it."""
    name = f"cfe-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": s3_endpoint,
                "region_name": REGION,
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": 60,
                "file_overwrite": False,
            },
        },
    }
    return name


def keys(s3, bucket: str) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_an_uploaded_file_is_a_private_object_under_a_random_key(
    client, seeded_call, s3, s3_endpoint, bucket
):
    draft_at_files_step(client, seeded_call)
    response = upload(client, seeded_call, [("Report.pdf", samples.PDF)])
    assert response.status_code == 302

    attachment = Attachment.objects.get()
    assert keys(s3, bucket) == [attachment.file.name]
    assert "Report" not in attachment.file.name
    stored = s3.get_object(Bucket=bucket, Key=attachment.file.name)
    assert stored["Body"].read() == samples.PDF
    grants = s3.get_object_acl(Bucket=bucket, Key=attachment.file.name)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert all(grant["Grantee"]["Type"] == "CanonicalUser" for grant in grants)
    # Asked for without a signature, the object is refused by S3 itself.
    anonymous = requests.get(f"{s3_endpoint}/{bucket}/{attachment.file.name}", timeout=10)
    assert anonymous.status_code == 403


def test_staff_download_through_a_short_lived_presigned_url(client, seeded_call, s3, bucket):
    draft_at_files_step(client, seeded_call)
    upload(client, seeded_call, [("Évaluation.pdf", samples.PDF)])
    attachment = Attachment.objects.get()
    attachment.submission.submit()  # a draft's files are nobody's to download

    staff = client.__class__()
    staff.force_login(make_reviewer(every_call=True))
    response = staff.get(reverse("attachment_download", args=[attachment.pk]))
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    query = parse_qs(urlsplit(response.url).query)
    assert query["X-Amz-Expires"] == ["60"]
    assert urlsplit(response.url).path == f"/{bucket}/{attachment.file.name}"

    fetched = requests.get(response.url, timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == samples.PDF
    assert fetched.headers["Content-Type"] == "application/pdf"
    assert fetched.headers["Content-Disposition"] == (
        "attachment; filename=\"Evaluation.pdf\"; filename*=UTF-8''%C3%89valuation.pdf"
    )


def test_others_get_no_presigned_url(client, seeded_call, bucket):
    draft_at_files_step(client, seeded_call)
    upload(client, seeded_call, [("a.pdf", samples.PDF)])
    download = reverse("attachment_download", args=[Attachment.objects.get().pk])

    anonymous = client.__class__().get(download)
    assert anonymous.url.startswith(reverse("admin:login"))
    other = client.__class__()
    other.force_login(make_staff_without_group())
    assert other.get(download).status_code == 403


def test_removing_a_file_deletes_the_object_after_commit(
    client, seeded_call, s3, bucket, django_capture_on_commit_callbacks
):
    draft_at_files_step(client, seeded_call)
    upload(client, seeded_call, [("a.pdf", samples.PDF), ("b.txt", samples.TXT)])
    drop = Attachment.objects.get(original_name="b.txt")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(f"/{seeded_call.slug}/files/remove/", {"remove": drop.pk})
    assert drop.file.name in keys(s3, bucket)  # not before the commit
    for callback in callbacks:
        callback()
    assert keys(s3, bucket) == [Attachment.objects.get().file.name]


def test_a_failed_insert_leaves_no_object_behind(client, seeded_call, s3, bucket):
    draft_at_files_step(client, seeded_call)
    draft = Submission.objects.get()
    twice = [check_upload(SimpleUploadedFile(n, samples.PDF), 10**7) for n in ("a.pdf", "b.pdf")]
    with pytest.raises(IntegrityError):
        draft.add_files(twice)
    assert keys(s3, bucket) == []


def test_sweep_finds_and_deletes_objects_no_record_points_to(client, seeded_call, s3, bucket):
    draft_at_files_step(client, seeded_call)
    upload(client, seeded_call, [("a.pdf", samples.PDF)])
    s3.put_object(Bucket=bucket, Key="attachments/" + "0" * 32, Body=b"stray")

    out = StringIO()
    call_command("sweep_files", "--grace-minutes", "0", stdout=out)
    assert f"orphan attachments/{'0' * 32} (5 bytes)" in out.getvalue()
    call_command("sweep_files", "--grace-minutes", "0", "--delete", stdout=StringIO())
    assert keys(s3, bucket) == [Attachment.objects.get().file.name]


def test_the_packs_pdf_is_a_private_object_downloaded_through_a_presigned_url(
    seeded_call, s3, s3_endpoint, bucket, django_capture_on_commit_callbacks
):
    from submissions.models import SynthesisPackPdf
    from submissions.publishing.pack_file import request_pdf

    from ..factories import make_call_manager, make_submission
    from ..worker import run_worker

    make_submission(seeded_call, review_status=Submission.ReviewStatus.INCLUDED)
    request_pdf(seeded_call, by_name="")
    run_worker()
    pdf = SynthesisPackPdf.objects.get()
    assert pdf.state == SynthesisPackPdf.State.READY
    assert keys(s3, bucket) == [pdf.file.name] and pdf.file.name.startswith("packs/")
    anonymous = requests.get(f"{s3_endpoint}/{bucket}/{pdf.file.name}", timeout=10)
    assert anonymous.status_code == 403

    staff = Client()
    staff.force_login(make_call_manager())
    response = staff.get(reverse("admin:submissions_call_pack_pdf_file", args=[seeded_call.pk]))
    assert response.status_code == 302
    assert urlsplit(response.url).path == f"/{bucket}/{pdf.file.name}"
    assert parse_qs(urlsplit(response.url).query)["X-Amz-Expires"] == ["60"]
    fetched = requests.get(response.url, timeout=10)
    assert fetched.content.startswith(b"%PDF-") and len(fetched.content) == pdf.size
    assert fetched.headers["Content-Type"] == "application/pdf"
    assert fetched.headers["Content-Disposition"].startswith(
        'attachment; filename="synthesis-pack-what-works-social-media-'
    )

    # Made again: the old object goes once the request commits; a stray one is swept.
    with django_capture_on_commit_callbacks(execute=True):
        request_pdf(seeded_call, by_name="", again=True)
    assert keys(s3, bucket) == []
    s3.put_object(Bucket=bucket, Key="packs/stray.pdf", Body=b"%PDF-")
    call_command("sweep_files", "--grace-minutes", "0", "--delete", stdout=StringIO())
    assert keys(s3, bucket) == []


def test_s3_is_chosen_from_the_environment(s3_endpoint):
    env = {
        **os.environ,
        "SECRET_KEY": "x",
        "AWS_STORAGE_BUCKET_NAME": "evidence-files",
        "AWS_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_S3_REGION_NAME": REGION,
        "AWS_ACCESS_KEY_ID": "key-id",
        "AWS_SECRET_ACCESS_KEY": "secret",
    }
    script = (
        "import json; from callforevidence import settings as s; "
        "print(json.dumps(s.STORAGES['attachments']))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    storage = json.loads(result.stdout)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "evidence-files"
    assert storage["OPTIONS"]["endpoint_url"] == s3_endpoint
    assert storage["OPTIONS"]["default_acl"] == "private"
    assert storage["OPTIONS"]["querystring_expire"] == 60


def test_a_release_made_on_two_cores_is_stored_in_s3_by_both(
    client, seeded_call, s3, bucket, settings, monkeypatch
):
    """The second process stores the segments it makes (publishing.releases.make_and_store)
    through a storage of its own, not the S3 client the first process made before the fork."""
    from submissions.models import release_storage
    from submissions.publishing import releases

    from ..factories import make_submission
    from ..publishing.helpers import csv_rows, publish

    settings.STORAGES = {
        **settings.STORAGES,
        "releases": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {**settings.STORAGES["attachments"]["OPTIONS"], "location": "releases"},
        },
    }
    monkeypatch.setattr(releases, "SEGMENT_ROWS", 1)
    monkeypatch.setattr(releases, "PARALLEL_AFTER", 1)
    release_storage().save("releases-before-the-fork.txt", StringIO("made here first"))
    for n in range(4):
        make_submission(seeded_call, review_status=Submission.ReviewStatus.INCLUDED, name=f"P{n}")

    release = publish(seeded_call)

    names = [n for s in release.segments.order_by("index") for n in (s.csv_name, s.json_name)]
    assert len(names) == 8
    assert sorted(keys(s3, bucket)) == sorted(
        ["releases/releases-before-the-fork.txt", *(f"releases/{name}" for name in names)]
    )
    assert [row["credit"].split(",")[0] for row in csv_rows(client, seeded_call)] == [
        "P0", "P1", "P2", "P3",
    ]  # fmt: skip

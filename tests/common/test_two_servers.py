"""Two app servers, one service: gunicorn twice, on two ports, sharing PostgreSQL, Redis and S3.

A contributor's requests alternate between the servers, as behind a load balancer without
sticky sessions: the draft, an uploaded file, the rate-limit counts and the staff download
must all work whichever server answers.
"""

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest
import requests
from django.conf import settings
from django.db import connection

from submissions.models import Attachment, Submission

from .. import samples
from ..contributor import ABOUT, evidence_data
from ..factories import PASSWORD, make_reviewer

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-2"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
pytestmark = [
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="two servers share one PostgreSQL; SQLite's test database is in memory",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def s3_bucket():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    name = f"cfe-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    yield endpoint, name, s3
    server.stop()


@pytest.fixture
def servers(s3_bucket):
    endpoint, bucket, _s3 = s3_bucket
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",  # the real settings, static files unbuilt
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_S3_REGION_NAME": REGION,
        "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "RATE_LIMIT_UPLOAD": "2/h",
    }
    processes, urls = [], []
    try:
        for _ in range(2):
            port = free_port()
            processes.append(
                subprocess.Popen(  # noqa: S603 - our own interpreter running gunicorn
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "callforevidence.wsgi",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--workers",
                        "1",
                        "--worker-class",
                        "gthread",
                        "--threads",
                        "2",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, processes, strict=True):
            wait_until_up(url, process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120  # a shared, busy machine
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped: {process.stderr.read().decode()[-2000:]}")
        try:
            if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or still starting its worker
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn on {url} did not answer within 120 s")


def csrf_token(page: requests.Response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def post(session: requests.Session, server: str, path: str, data: dict, files=None):
    token = csrf_token(session.get(server + path, timeout=30))
    return session.post(
        server + path,
        data={"csrfmiddlewaretoken": token, **data},
        files=files,
        allow_redirects=False,
        timeout=60,
    )


def test_a_journey_alternating_between_two_servers_works_as_on_one(servers, s3_bucket, seeded_call):
    a, b = servers
    endpoint, bucket, s3 = s3_bucket
    call = f"/{seeded_call.slug}"
    contributor = requests.Session()  # one cookie jar: cookies are per host, not per port

    assert post(contributor, a, f"{call}/licence/", {"consent": "yes"}).status_code == 302
    assert post(contributor, b, f"{call}/about-you/", ABOUT).status_code == 302
    evidence = evidence_data(seeded_call)
    assert post(contributor, a, f"{call}/evidence/", evidence).status_code == 302
    draft = Submission.objects.get()
    assert draft.name == ABOUT["name"] and draft.links  # written by both servers, one row

    pdf = {"files": ("Report.pdf", samples.PDF, "application/pdf")}
    added = post(contributor, b, f"{call}/files/", {"action": "add"}, files=pdf)
    assert added.status_code == 302
    # The file uploaded through B is listed by A: it is in S3, its record in PostgreSQL.
    assert "Report.pdf" in contributor.get(f"{a}{call}/files/", timeout=30).text
    stored = Attachment.objects.get().file.name
    assert s3.get_object(Bucket=bucket, Key=stored)["Body"].read() == samples.PDF

    # The upload limit (2 an hour here) is counted in Redis, across both servers.
    txt = {"files": ("notes.txt", samples.TXT, "text/plain")}
    assert post(contributor, a, f"{call}/files/", {"action": "add"}, files=txt).status_code == 302
    png = {"files": ("chart.png", samples.png(), "image/png")}
    refused = post(contributor, b, f"{call}/files/", {"action": "add"}, files=png)
    assert refused.status_code == 429
    assert "Try again after" in refused.text
    assert int(refused.headers["Retry-After"]) > 0

    sent = post(contributor, a, f"{call}/check-your-answers/", {})
    assert sent.status_code == 302
    confirmation = contributor.get(f"{b}{call}/submitted/", timeout=30)
    submission = Submission.objects.get()
    assert submission.is_submitted
    assert submission.reference in confirmation.text
    assert sorted(submission.attachments.values_list("original_name", flat=True)) == [
        "Report.pdf",
        "notes.txt",
    ]

    # Staff sign in on A and download through B the file that B stored.
    make_reviewer(every_call=True)  # alice
    staff = requests.Session()
    signed_in = post(
        staff, a, "/admin/login/?next=/admin/", {"username": "alice", "password": PASSWORD}
    )
    assert signed_in.status_code == 302
    report = Attachment.objects.get(original_name="Report.pdf")
    download = staff.get(f"{b}/staff/files/{report.pk}/", allow_redirects=False, timeout=30)
    assert download.status_code == 302
    # Presigned by B for the shared bucket.
    assert download.headers["Location"].startswith(f"{endpoint}/{bucket}/{report.file.name}?")
    fetched = requests.get(download.headers["Location"], timeout=30)
    assert fetched.status_code == 200
    assert fetched.content == samples.PDF

"""Rate limits per client address on the shared cache (Redis), and the honeypot on the licence."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory

from submissions.common.ratelimits import client_address, rate_limited
from submissions.models import OutgoingEmail, Submission

from .. import samples
from ..contributor import url, walk_to
from ..files import draft_at_files_step, upload

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def lower(settings, **rates: str) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, **rates}


def test_a_script_from_one_address_is_refused_after_100_new_drafts(seeded_call):
    statuses = [
        Client().post(url(seeded_call, "consent"), {"consent": "yes"}).status_code
        for _ in range(110)
    ]
    assert statuses == [302] * 100 + [429] * 10
    assert Submission.objects.count() == 100


def test_the_429_page_says_when_to_try_again_and_keeps_the_draft(client, seeded_call, settings):
    lower(settings, submit="1/h")
    first = Client()
    walk_to(first, seeded_call, "check")
    assert first.post(url(seeded_call, "check")).status_code == 302

    walk_to(client, seeded_call, "check")
    response = client.post(url(seeded_call, "check"))
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    page = response.content.decode()
    assert "<title>Too many attempts: try again later \N{EN DASH} NCCPE</title>" in page
    assert "You have tried to send a submission too many times from your address" in page
    assert "Anything you had already saved has been kept." in page
    assert re.search(r"Try again after \w+day \d+ \w+ \d{4}, \d+:\d\d[ap]m UK time", page)
    assert f'href="{url(seeded_call, "check")}"' in page
    # The draft is still there, and the contributor can pick it up at the same step.
    assert Submission.objects.filter(state=Submission.State.DRAFT).count() == 1
    assert client.get(url(seeded_call, "check")).status_code == 200


def test_uploads_are_limited_and_a_refused_upload_stores_nothing(client, seeded_call, settings):
    lower(settings, upload="1/h")
    draft_at_files_step(client, seeded_call)
    assert upload(client, seeded_call, [("a.pdf", samples.PDF)]).status_code == 302
    response = upload(client, seeded_call, [("b.txt", samples.TXT)])
    assert response.status_code == 429
    assert "You have tried to upload files too many times" in response.content.decode()
    assert list(Submission.objects.get().attachments.values_list("original_name", flat=True)) == [
        "a.pdf"
    ]
    # Moving on without a new file is not an upload, and is not refused.
    response = client.post(url(seeded_call, "files"), {"action": "continue"})
    assert response.status_code == 302


def test_a_forwarded_for_header_is_ignored_unless_a_proxy_is_trusted(seeded_call, settings):
    lower(settings, draft="2/h")

    def start(forwarded: str) -> int:
        response = Client().post(
            url(seeded_call, "consent"), {"consent": "yes"}, HTTP_X_FORWARDED_FOR=forwarded
        )
        return response.status_code

    assert [start(f"203.0.113.{n}") for n in range(3)] == [302, 302, 429]

    settings.TRUSTED_PROXY_COUNT = 1
    assert [start(f"198.51.100.{n}") for n in range(3)] == [302, 302, 302]
    # Behind one proxy only the last entry counts; what the client wrote before it is ignored.
    assert [start(f"10.0.0.{n}, 192.0.2.7") for n in range(3)] == [302, 302, 429]


def test_client_address_picks_the_entry_the_trusted_proxies_wrote(settings):
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 2.2.2.2")
    assert client_address(request) == "10.1.1.1"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(request) == "1.1.1.1"
    settings.TRUSTED_PROXY_COUNT = 3  # fewer entries than proxies: not trusted
    assert client_address(request) == "10.1.1.1"
    # IPv6 visitors are counted per /64, which one household or laptop holds.
    settings.TRUSTED_PROXY_COUNT = 0
    v6 = factory.get("/", REMOTE_ADDR="2001:db8:1:2:aaaa:bbbb:cccc:dddd")
    assert client_address(v6) == "2001:db8:1:2::"


def test_the_save_and_return_limits_count_per_address_and_per_email(settings):
    lower(settings, resume_address="3/h", resume_email="2/h")
    view = rate_limited("resume_address", "resume_email")(lambda request: HttpResponse("sent"))
    factory = RequestFactory()

    def ask(email: str, address: str) -> int:
        request = factory.post("/x/return/", {"email": email}, REMOTE_ADDR=address)
        return view(request).status_code

    # One email address, asked for from many addresses: two links an hour.
    assert [ask("Jane@Example.org", f"192.0.2.{n}") for n in range(3)] == [200, 200, 429]
    # One address asking for many email addresses: three an hour.
    assert [ask(f"p{n}@example.org", "198.51.100.9") for n in range(4)] == [200, 200, 200, 429]
    # Looking at the form (GET) is never counted.
    assert view(factory.get("/x/return/", REMOTE_ADDR="198.51.100.9")).status_code == 200


def test_a_rate_that_is_not_a_rate_is_refused_by_name():
    env = {**os.environ, "RATE_LIMIT_DRAFT": "lots", "DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "-c", "import callforevidence.settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "RATE_LIMIT_DRAFT must be a rate such as 100/h" in result.stderr


def test_a_bot_filling_the_honeypot_sees_the_next_page_and_nothing_is_stored(client, seeded_call):
    response = client.post(
        url(seeded_call, "consent"), {"consent": "yes", "homepage": "http://spam.example"}
    )
    assert response.status_code == 302
    assert response["Location"] == url(seeded_call, "about")
    assert not Submission.objects.exists()
    # The next page has no draft to show: back to the start, as for any visitor without one.
    assert client.get(url(seeded_call, "about"))["Location"] == url(seeded_call, "start")


def test_people_do_not_see_the_honeypot_and_leaving_it_empty_starts_a_draft(client, seeded_call):
    page = client.get(url(seeded_call, "consent")).content.decode()
    assert 'id="div_id_homepage"' in page  # hidden by site.css, where no person sees it
    assert 'autocomplete="off"' in page
    assert "#div_id_homepage { display: none; }" in (ROOT / "static" / "site.css").read_text()
    response = client.post(url(seeded_call, "consent"), {"consent": "yes", "homepage": ""})
    assert response["Location"] == url(seeded_call, "about")
    assert Submission.objects.count() == 1


def test_with_redis_unreachable_contributors_are_let_through(client, seeded_call, settings):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    lower(settings, draft="0/h")
    response = client.post(url(seeded_call, "consent"), {"consent": "yes"})
    assert response.status_code == 302
    assert Submission.objects.count() == 1


@pytest.mark.parametrize(
    "variant",
    [
        '"jane"@example.org',  # a quoted local part: the same mailbox to every mail system
        '"ja\\ne"@example.org',  # a quoted pair: \n is the letter n
        '"Jane"@Example.ORG',
        "JANE@example.org",
        "jane@EXAMPLE.ORG",
        "Jane@Example.Org.",
        "jane+flood@example.org",  # a subaddress, delivered to jane
        " jane@example.org ",
    ],
)
def test_the_per_email_limit_counts_the_mailbox_not_the_spelling(client, seeded_call, variant):
    walk_to(client, seeded_call, "evidence")
    for _ in range(5):
        assert (
            client.post(f"/{seeded_call.slug}/save/", {"email": "jane@example.org"}).status_code
            == 302
        )
    queued = OutgoingEmail.objects.count()

    refused = client.post(f"/{seeded_call.slug}/save/", {"email": variant})

    assert refused.status_code == 429
    assert "for this email address" in refused.content.decode()
    assert OutgoingEmail.objects.count() == queued


@pytest.mark.parametrize(
    ("address", "mailbox"),
    [
        ('"victim"@example.org', "victim@example.org"),
        ('"vic\\tim"@Example.ORG', "victim@example.org"),
        ("Victim+news@example.org", "victim@example.org"),
        ("victim@exämple.org", "victim@xn--exmple-cua.org"),
        ("victim@XN--EXMPLE-CUA.ORG", "victim@xn--exmple-cua.org"),
        ("victim@example.org.", "victim@example.org"),
        ("ｖｉｃｔｉｍ@example.org", "victim@example.org"),  # noqa: RUF001 (full-width letters)
        ("V.I.Ctim@googlemail.com", "victim@gmail.com"),  # Gmail ignores dots
        ("v.ictim@example.org", "v.ictim@example.org"),  # elsewhere a dot is a dot
        ("not an address", "not an address"),
    ],
)
def test_an_address_is_counted_as_the_mailbox_it_reaches(address, mailbox):
    from submissions.common.ratelimits import mailbox as mailbox_of

    assert mailbox_of(address) == mailbox

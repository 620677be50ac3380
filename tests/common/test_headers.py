"""Security headers on every page, a strict Content-Security-Policy, and production's refusals."""

import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client

from submissions.models import ContributorLink, Submission
from submissions.models.links import status_link_url

from ..contributor import ABOUT, evidence_data, url, walk_to
from ..factories import make_call_manager, make_submission

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_strict(response) -> None:
    csp = policy(response)
    for directive in ("script-src", "style-src", "default-src"):
        assert "'unsafe-inline'" not in csp.get(directive, []), directive
        assert "'unsafe-eval'" not in csp.get(directive, []), directive
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in response["Permissions-Policy"]
    if response.get("Content-Type", "").startswith("text/html"):
        found = INLINE.search(response.content.decode())
        assert found is None, f"inline code in {response.request['PATH_INFO']}: {found}"


def test_every_page_of_the_journey_sends_the_headers_and_has_no_inline_code(seeded_call):
    client = Client()
    responses = [client.get("/"), client.get(url(seeded_call, "start"))]
    steps = [
        ("consent", {"consent": "yes"}),
        ("about", {**ABOUT, "email": "not an email"}),  # an error page too
        ("about", ABOUT),
        ("evidence", evidence_data(seeded_call)),
        ("files", {"action": "continue"}),
        ("check", {}),
    ]
    for step, data in steps:
        responses.append(client.get(url(seeded_call, step)))
        responses.append(client.post(url(seeded_call, step), data))
    responses.append(client.get(url(seeded_call, "confirmation")))
    responses.append(client.get("/no-such-call/"))
    responses.append(client.get(url(seeded_call, "declined")))
    responses.append(client.get("/healthz"))
    csrf_checked = Client(enforce_csrf_checks=True)
    responses.append(csrf_checked.post(url(seeded_call, "consent"), {"consent": "yes"}))
    assert {r.status_code for r in responses} >= {200, 302, 403, 404}
    for response in responses:
        assert_strict(response)


POST_FORM = re.compile(r"<form[^>]*method=\"post\"", re.IGNORECASE)


def test_only_pages_without_a_form_keep_their_address_from_the_referer(seeded_call):
    """`Referrer-Policy: no-referrer` makes a browser send `Origin: null` with a form, which
    the CSRF check refuses: it is for an emailed link's own address (which holds its token),
    never for a page with a form. Every page with a form keeps the site's same-origin."""
    walk_to(Client(), seeded_call, "evidence")
    draft = Submission.objects.get()
    resume = ContributorLink.issue(draft, ContributorLink.Purpose.RESUME)
    sent = make_submission(seeded_call)
    status = urlsplit(status_link_url(sent)).path
    browser = Client()
    responses = {
        "resume link": browser.get(f"/{seeded_call.slug}/return/{resume}/"),
        "resume link forged": Client().get(f"/{seeded_call.slug}/return/{'x' * 43}/"),
        "status link": browser.get(status),
        "status link forged": Client().get(f"/{seeded_call.slug}/status/{'x' * 43}/"),
    }
    # The page the link opens asks before it continues the draft: it has a form.
    responses["the page it opens"] = browser.get(responses["resume link"]["Location"])
    responses["status page"] = browser.get(responses["status link"]["Location"])
    draft.submit()
    responses["resume link, sent"] = Client().get(f"/{seeded_call.slug}/return/{resume}/")

    for name, response in responses.items():
        has_form = bool(POST_FORM.search(response.content.decode()))
        if name.endswith("link") or name.endswith("forged") or name.endswith("sent"):
            assert response["Referrer-Policy"] == "no-referrer", name
        assert not (has_form and response["Referrer-Policy"] == "no-referrer"), name
    assert POST_FORM.search(responses["status page"].content.decode())
    assert responses["status page"]["Referrer-Policy"] == "same-origin"
    assert POST_FORM.search(responses["the page it opens"].content.decode())
    assert responses["the page it opens"]["Referrer-Policy"] == "same-origin"


def test_the_429_page_and_the_admin_send_the_headers_too(client, seeded_call, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "draft": "0/h"}
    refused = Client().post(url(seeded_call, "consent"), {"consent": "yes"})
    assert refused.status_code == 429
    assert_strict(refused)

    login = Client().get("/admin/login/")
    assert login.status_code == 200
    assert_strict(login)
    submission = make_submission(seeded_call)
    client.force_login(make_call_manager())
    for path in (
        "/admin/",
        "/admin/submissions/submission/",
        f"/admin/submissions/submission/{submission.pk}/change/",
        f"/admin/submissions/call/{seeded_call.pk}/change/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_strict(response)


def production_env() -> dict[str, str]:
    """The environment docs/deployment.md's "In production" exports, with real-looking values."""
    guide = (ROOT / "docs" / "deployment.md").read_text()
    section = guide.split("## In production", 1)[1]
    command = re.search(r"export (.+?)\n\s*\.venv", section, re.DOTALL).group(1)
    env = dict(item.split("=", 1) for item in shlex.split(command.replace("\\\n", " ")))
    assert env["SECRET_KEY"] == "..." and env["DATABASE_URL"] == "postgres://..."
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env["DATABASE_URL"] = "postgres://app@127.0.0.1:5432/callforevidence"
    return env


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")}
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_deploy_prints_no_warning_with_the_readmes_production_settings():
    env = production_env()
    assert env["REDIS_URL"].startswith("redis://")
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_when_rate_limits_are_not_shared():
    env = production_env()
    del env["REDIS_URL"]
    result = manage("check", "--deploy", **env)
    assert "submissions.W001" in result.stdout + result.stderr


def test_production_refuses_to_start_with_a_short_secret_key():
    env = {**production_env(), "SECRET_KEY": "s" * 49}
    # What gunicorn does first: import the WSGI application.
    started = manage_python("import callforevidence.wsgi", **env)
    assert started.returncode != 0
    assert "SECRET_KEY must be at least 50 characters when DEBUG is off" in started.stderr
    deploy = manage("check", "--deploy", **env)
    assert "security.W009" in deploy.stdout + deploy.stderr
    good = {**env, "SECRET_KEY": secrets.token_urlsafe(50)}
    assert manage_python("import callforevidence.wsgi", **good).returncode == 0


def manage_python(code: str, **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")}
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_page_that_shows_a_contributors_answers_is_never_stored(seeded_call):
    from submissions.models import ContributorLink, Submission

    from ..contributor import walk_to

    client = Client()
    slug = seeded_call.slug
    walk_to(client, seeded_call, "check")
    client.post(f"/{slug}/save/", {"email": ABOUT["email"]})
    pages = {
        step: client.get(url(seeded_call, step))
        for step in ["consent", "about", "evidence", "files", "check"]
    }
    pages["about (with an error)"] = client.post(url(seeded_call, "about"), {"email": "x"})
    pages["save"] = client.get(f"/{slug}/save/")
    pages["save: sent"] = client.get(f"/{slug}/save/sent/")
    pages["delete answers"] = client.get(f"/{slug}/licence/delete-answers/")
    draft = Submission.objects.get()
    token = ContributorLink.issue(draft, ContributorLink.Purpose.RESUME, sent_to=ABOUT["email"])
    home = Client()
    pages["link"] = home.get(f"/{slug}/return/{token}/")
    pages["continue here?"] = home.get(f"/{slug}/return/")
    home.post(f"/{slug}/return/")
    pages["continued elsewhere"] = client.get(f"/{slug}/continued-elsewhere/")
    home.post(url(seeded_call, "check"))
    pages["confirmation"] = home.get(url(seeded_call, "confirmation"))
    assert {
        name: r.status_code for name, r in pages.items() if r.status_code not in (200, 302)
    } == {}
    for name, response in pages.items():
        assert "no-store" in response.get("Cache-Control", ""), name

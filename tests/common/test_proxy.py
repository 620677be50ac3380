"""Behind a proxy: forwarding headers are trusted only when TRUSTED_PROXY_COUNT says a proxy is
there, and `check --deploy` warns when requests show a proxy the settings do not trust.
"""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.test import Client

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def proxy_ssl_header(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "TRUSTED_PROXY_COUNT"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import callforevidence.settings as s; print(s.SECURE_PROXY_SSL_HEADER)",
        ],
        cwd=ROOT,
        env={**clean, "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_x_forwarded_proto_is_trusted_only_behind_a_trusted_proxy():
    assert proxy_ssl_header() == "None"
    assert proxy_ssl_header(TRUSTED_PROXY_COUNT="0") == "None"
    assert proxy_ssl_header(TRUSTED_PROXY_COUNT="1") == "('HTTP_X_FORWARDED_PROTO', 'https')"


def deploy_warnings() -> dict[str, str]:
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    return {message.id: message.msg for message in found if message.id.startswith("submissions.")}


def test_check_deploy_warns_when_a_private_address_forwards_and_no_proxy_is_trusted(
    settings, caplog
):
    settings.TRUSTED_PROXY_COUNT = 0
    assert "submissions.W002" not in deploy_warnings()

    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            Client().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9")

    warning = deploy_warnings()["submissions.W002"]
    assert "10.0.0.5" in warning
    assert "TRUSTED_PROXY_COUNT is 0" in warning
    assert "every visitor is counted as that one address" in warning
    logged = [r for r in caplog.records if "TRUSTED_PROXY_COUNT is 0" in r.getMessage()]
    assert len(logged) == 3  # once per process (each test client is one), not per request


@pytest.mark.parametrize(
    ("proxies", "remote", "headers"),
    [
        (1, "10.0.0.5", {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}),  # the proxy is trusted
        # A visitor's own header (203.0.113.0/24, a documentation range, counts as private).
        (0, "81.2.69.142", {"HTTP_X_FORWARDED_FOR": "1.2.3.4"}),
        (0, "10.0.0.5", {}),  # a private address without forwarding headers
    ],
)
def test_check_deploy_is_quiet_otherwise(settings, proxies, remote, headers):
    settings.TRUSTED_PROXY_COUNT = proxies
    Client().get("/", REMOTE_ADDR=remote, **headers)

    assert "submissions.W002" not in deploy_warnings()


@pytest.mark.parametrize(
    "header",
    ["HTTP_X_FORWARDED_PROTO", "HTTP_FORWARDED", "HTTP_X_REAL_IP", "HTTP_X_FORWARDED_HOST"],
)
def test_any_forwarding_header_from_a_private_address_counts(settings, header):
    settings.TRUSTED_PROXY_COUNT = 0
    Client().get("/", REMOTE_ADDR="127.0.0.1", **{header: "x"})

    assert "submissions.W002" in deploy_warnings()


def test_check_deploy_warns_of_a_redirect_loop_behind_an_untrusted_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.SECURE_SSL_REDIRECT = True

    assert "X-Forwarded-Proto is ignored" in deploy_warnings()["submissions.W003"]
    settings.TRUSTED_PROXY_COUNT = 1
    assert "submissions.W003" not in deploy_warnings()

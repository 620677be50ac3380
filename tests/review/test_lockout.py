"""Staff sign-in lockout (django-axes): 10 failures for a username from an address lock it there."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from ..factories import make_reviewer

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/?next=/admin/"
RIGHT = "correct horse"


def sign_in(client: Client, password: str, address: str = "192.0.2.10"):
    return client.post(LOGIN, {"username": "alice", "password": password}, REMOTE_ADDR=address)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail(client: Client, times: int, address: str = "192.0.2.10") -> None:
    for _ in range(times):
        response = sign_in(client, "wrong password", address)
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()


def test_after_ten_failures_the_right_password_is_refused_from_that_address(client):
    make_reviewer()
    fail(client, 9)
    # The tenth failure locks the account for this address, and says so.
    assert sign_in(client, "wrong password").status_code == 429
    response = sign_in(client, RIGHT)
    assert response.status_code == 429
    assert not signed_in(client)
    page = response.content.decode()
    assert "<title>Error: Account locked" in page
    assert "This account is locked for sign-in from your address after 10 failed attempts." in page
    assert "Try again after" in page and "UK time (60 minutes after the last attempt)" in page
    assert 'id="login-form"' in page  # still the sign-in page, in the admin's style
    assert "Please enter the correct username" not in page
    assert response["Retry-After"] == "3600"
    assert client.get("/admin/")["Location"].startswith("/admin/login/")

    # Another address is not locked out.
    other = Client()
    assert sign_in(other, RIGHT, address="198.51.100.20").status_code == 302
    assert signed_in(other)


def test_nine_failures_do_not_lock_and_a_success_starts_the_count_again(client):
    make_reviewer()
    fail(client, 9)
    assert sign_in(client, RIGHT).status_code == 302
    assert signed_in(client)
    client.logout()
    fail(client, 9)
    assert sign_in(client, RIGHT).status_code == 302


def test_an_administrator_unlocks_an_account_with_a_command(client):
    make_reviewer()
    fail(client, 9)
    assert sign_in(client, "wrong password").status_code == 429
    assert sign_in(client, RIGHT).status_code == 429
    call_command("axes_reset_username", "alice", stdout=StringIO())
    assert sign_in(client, RIGHT).status_code == 302
    assert signed_in(client)


def test_the_lock_ends_an_hour_after_the_last_attempt_made_while_locked(client):
    make_reviewer()
    with time_machine.travel("2026-06-01 09:00 +0000", tick=False) as traveller:
        fail(client, 9)
        sign_in(client, "wrong password")
        traveller.shift(timedelta(minutes=59))
        assert sign_in(client, RIGHT).status_code == 429  # and this attempt restarts the hour
        traveller.shift(timedelta(minutes=2))
        assert sign_in(client, RIGHT).status_code == 429
        traveller.shift(timedelta(minutes=61))
        assert sign_in(client, RIGHT).status_code == 302


def test_the_limit_and_the_lockout_time_are_configurable(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=5)
    make_reviewer()
    fail(client, 2)
    assert sign_in(client, "wrong password").status_code == 429
    response = sign_in(client, RIGHT)
    assert response.status_code == 429
    assert response["Retry-After"] == "300"

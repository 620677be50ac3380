"""The database check: PostgreSQL's autovacuum keeps the planner's statistics fresh."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db


def autovacuum_setting() -> str | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        return cursor.fetchone()[0]


def test_check_with_the_database_warns_exactly_when_autovacuum_is_off():
    out = io.StringIO()

    call_command("check", "--database", "default", stdout=out, stderr=out)

    warned = "submissions.W010" in out.getvalue()
    assert warned == (autovacuum_setting() == "off")
    if warned:
        assert "PostgreSQL's autovacuum is off" in out.getvalue()
        assert "run ANALYZE after every bulk load" in out.getvalue()

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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="JIT is PostgreSQL's")
def test_queries_are_never_compiled_just_in_time_however_costly_they_look():
    """settings.py turns JIT off for every connection: an estimate made without statistics
    (straight after a bulk load) made PostgreSQL compile a query of milliseconds for 122 ms.
    Here a query made to look costly is planned with no JIT at all."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SET LOCAL jit_above_cost = 0")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) SELECT sum(n) FROM generate_series(1, 10) n")
        plan = cursor.fetchone()[0]
    assert "JIT" not in plan[0]

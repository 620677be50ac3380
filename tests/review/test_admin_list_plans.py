"""The submissions list's statements keep their plan shape with no planner statistics at all, as
right after a bulk load before any ANALYZE (issue 23): the page read in order from an index and
stopped, the theme's count read from the theme's links. The test database's tables are never
analysed, so PostgreSQL plans here from its defaults, as it did when it sorted every row of a
call for each page (34.6 s for page 100 at 1,000,000 rows, docs/benchmarks.md)."""

import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from submissions.models import Submission, Theme
from submissions.review.admin.submissions import SubmissionAdmin
from tests.factories import assign, make_call, make_reviewer, make_submission

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner"),
]

LIST_URL = reverse("admin:submissions_submission_changelist")


def plans(client, query: dict) -> tuple[str, str]:
    """EXPLAIN of the list's page statement and of its count, as the page sent them."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(LIST_URL, query).status_code == 200
    table = Submission._meta.db_table
    statements = [q["sql"] for q in captured.captured_queries]
    (page,) = [sql for sql in statements if f'SELECT "{table}"."id"' in sql and " LIMIT " in sql]
    counts = [sql for sql in statements if sql.startswith("SELECT COUNT(*)")]
    explained = []
    for sql in [page, *counts[:1]]:
        with transaction.atomic(), connection.cursor() as cursor:
            # A table of a few rows is read whole whatever its indexes: the plan at a million
            # rows is the one the planner makes when it may not.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}")
            explained.append("\n".join(row[0] for row in cursor.fetchall()))
    return explained[0], (explained[1] if counts else "")


@pytest.fixture
def reviewer(client, monkeypatch):
    # Pages of two: the page statement is a LIMIT of three rows, as of a million.
    monkeypatch.setattr(SubmissionAdmin, "list_per_page", 2)
    call = make_call()
    user = make_reviewer()
    assign(user, call)
    client.force_login(user)
    theme = Theme.objects.create(name="Podcasts")
    for _ in range(3):
        make_submission(call).themes.add(theme)
    cursor = connection.cursor()
    cursor.execute(
        "SELECT count(*) FROM pg_stats WHERE tablename IN (%s, %s)",
        [Submission._meta.db_table, Submission.themes.through._meta.db_table],
    )
    assert cursor.fetchone()[0] == 0, "the tables have statistics: this test plans without"
    return theme


@pytest.mark.parametrize("query", [{}, {"review_status__exact": "new"}, {"theme": "THEME"}])
def test_a_page_is_read_in_the_lists_order_from_an_index_not_sorted(client, reviewer, query):
    query = {k: str(reviewer.pk) if v == "THEME" else v for k, v in query.items()}
    page, _ = plans(client, query)

    assert "Sort" not in page, page
    # In order from an index: by call, or by state (with the call as a filter) when the planner
    # takes the call for most rows; either way read and stopped at the page's end.
    assert re.search(r"Index Scan (Backward )?using \S+ on submissions_submission\b", page), page


def test_a_themes_count_reads_the_themes_links_and_each_submission_by_its_key(client, reviewer):
    _, count = plans(client, {"theme": reviewer.pk})

    scans = [line.strip() for line in count.splitlines() if " on " in line]
    assert "on submissions_submission_themes" in scans[0], count
    # Each link's submission looked up once per link (a subplan), never joined: which index the
    # look-up takes is the planner's choice on these few rows (the primary key at any real size:
    # one row against the 0.5 % it assumes of a call).
    assert "SubPlan" in count, count

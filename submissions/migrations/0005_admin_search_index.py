"""A GIN index for full-text search of submissions, on PostgreSQL only.

The expression is the one submissions.search.search_vector() builds; if the two differ, the
index is silently unused (tests/test_admin_search.py checks the query plan). SQLite searches
with a plain substring match and needs no index.
"""

from django.db import migrations

CREATE = """
CREATE INDEX IF NOT EXISTS "submission_search" ON "submissions_submission" USING gin ((
    to_tsvector('english'::regconfig,
        COALESCE("reference", '') || ' ' || COALESCE("name", '') || ' ' ||
        COALESCE("email", '') || ' ' || COALESCE("organisation", ''))
    || to_tsvector('english'::regconfig, "answers")
))
"""
DROP = 'DROP INDEX IF EXISTS "submission_search"'


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("submissions", "0004_admin_review_history")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]

"""Full-text search of submissions on PostgreSQL: a tsvector column, its trigger, its index.

The trigger computes the column from the reference, name, email, organisation and the string
values of the answers, and only when one of them changes: a review change costs nothing extra.
Storing it (rather than indexing an expression) keeps every query plan cheap: a plan that
filters row by row reads the stored vector instead of re-parsing some 3 KB of answers.
SQLite keeps the column empty and searches with a substring match.
"""

import django.contrib.postgres.search
from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION submission_search_document() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND OLD.search_document IS NOT NULL
        AND NEW.reference IS NOT DISTINCT FROM OLD.reference
        AND NEW.name = OLD.name
        AND NEW.email = OLD.email
        AND NEW.organisation = OLD.organisation
        AND NEW.answers = OLD.answers
    THEN
        NEW.search_document := OLD.search_document;
    ELSE
        NEW.search_document :=
            to_tsvector('english'::regconfig, COALESCE(NEW.reference, '') || ' ' || NEW.name
                || ' ' || NEW.email || ' ' || NEW.organisation)
            || to_tsvector('english'::regconfig, NEW.answers);
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER submission_search_document
    BEFORE INSERT OR UPDATE ON submissions_submission
    FOR EACH ROW EXECUTE FUNCTION submission_search_document();

UPDATE submissions_submission SET search_document = NULL;

CREATE INDEX submission_search ON submissions_submission USING gin (search_document);
"""

DROP = """
DROP INDEX IF EXISTS submission_search;
DROP TRIGGER IF EXISTS submission_search_document ON submissions_submission;
DROP FUNCTION IF EXISTS submission_search_document();
"""


def create_search(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_search(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("submissions", "0007_admin_groups")]

    operations = [
        migrations.AddField(
            model_name="submission",
            name="search_document",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(create_search, drop_search),
    ]

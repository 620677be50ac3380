"""What changed since the latest release, kept by the database as it is written (PostgreSQL).

Row triggers mark a submitted submission in submissions_publicchange (with the time) when a
write can change what a release shows of it: inserted as included; its state, review status,
withdrawal request, withholding or credit details changed while it is (or was) included; a theme
given or taken away. The WHEN clauses are evaluated without calling the function, so the
contributors' journey (drafts, submitting a submission that is not included) writes nothing.
The release preview compares only the marked submissions (publishing/releases.py). The migration
marks every included or released submission already there, so that the first preview after it
compares them all. SQLite keeps the table empty; the preview compares everything there.
"""

from django.db import migrations, models

MARK = """
    INSERT INTO submissions_publicchange AS c (submission_id, changed_at)
    VALUES ({id}, clock_timestamp())
    ON CONFLICT (submission_id) DO UPDATE SET changed_at = excluded.changed_at;
"""

CREATE = f"""
CREATE FUNCTION public_change_of_submission() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {MARK.format(id="NEW.id")}
    RETURN NULL;
END
$$;

CREATE FUNCTION public_change_of_themes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        {MARK.format(id="OLD.submission_id")}
    ELSE
        {MARK.format(id="NEW.submission_id")}
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER public_change_insert AFTER INSERT ON submissions_submission
    FOR EACH ROW WHEN (NEW.state = 'submitted' AND NEW.review_status = 'included')
    EXECUTE FUNCTION public_change_of_submission();
CREATE TRIGGER public_change_update AFTER UPDATE ON submissions_submission
    FOR EACH ROW WHEN (
        (NEW.review_status = 'included' OR OLD.review_status = 'included')
        AND (NEW.state = 'submitted' OR OLD.state = 'submitted')
        AND ROW(OLD.state, OLD.review_status, OLD.withdrawal_requested_at,
            OLD.withheld_from_open_data, OLD.credit_preference, OLD.name, OLD.organisation,
            OLD.co_contributors)
        IS DISTINCT FROM ROW(NEW.state, NEW.review_status, NEW.withdrawal_requested_at,
            NEW.withheld_from_open_data, NEW.credit_preference, NEW.name, NEW.organisation,
            NEW.co_contributors)
    )
    EXECUTE FUNCTION public_change_of_submission();
CREATE TRIGGER public_change_themes AFTER INSERT OR DELETE ON submissions_submission_themes
    FOR EACH ROW EXECUTE FUNCTION public_change_of_themes();

INSERT INTO submissions_publicchange (submission_id, changed_at)
SELECT id, now() FROM (
    SELECT id FROM submissions_submission
    WHERE state = 'submitted' AND review_status = 'included'
    UNION
    SELECT submission_id FROM submissions_publiccontribution WHERE submission_id IS NOT NULL
) AS existing
ON CONFLICT (submission_id) DO NOTHING;
"""  # noqa: S608 (this module's own SQL; no input reaches it)

DROP = """
DROP TRIGGER IF EXISTS public_change_insert ON submissions_submission;
DROP TRIGGER IF EXISTS public_change_update ON submissions_submission;
DROP TRIGGER IF EXISTS public_change_themes ON submissions_submission_themes;
DROP FUNCTION IF EXISTS public_change_of_submission();
DROP FUNCTION IF EXISTS public_change_of_themes();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("submissions", "0025_release_job")]

    operations = [
        migrations.CreateModel(
            name="PublicChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("submission_id", models.BigIntegerField(unique=True)),
                ("changed_at", models.DateTimeField(db_index=True)),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]

"""The submission tally: counts of submitted submissions kept by the database as it is written.

On PostgreSQL, three statement triggers (insert, update, delete) read the rows each statement
changed (transition tables), and add and subtract their counts per key in one upsert, keys in
sorted order: two statements lock tally rows in the same order, so they cannot deadlock over
them, and a statement that changes no count (a draft saved, a note edited) writes nothing.
A TRUNCATE empties the tally too. The migration counts the submissions already there, under
the lock CREATE TRIGGER takes, so none is missed or counted twice. SQLite keeps the table empty
(submissions/models/tally.py counts on each read there).
"""

import django.db.models.deletion
from django.db import migrations, models

# One SELECT of (key, +1 or -1) per transition table; the trigger sums them per key.
NEW_ROWS = """
    SELECT call_id, (submitted_at AT TIME ZONE 'Europe/London')::date AS day, review_status,
        is_late, withdrawal_requested_at IS NOT NULL AS withdrawal_requested, 1 AS n
    FROM new_rows WHERE state = 'submitted'
"""
OLD_ROWS = NEW_ROWS.replace("new_rows", "old_rows").replace("1 AS n", "-1 AS n")
UPSERT = """
    INSERT INTO submissions_submissiontally AS t
        (call_id, day, review_status, is_late, withdrawal_requested, n)
    SELECT call_id, day, review_status, is_late, withdrawal_requested, sum(n)
    FROM ({rows}) AS changed
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(n) <> 0
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (call_id, day, review_status, is_late, withdrawal_requested)
    DO UPDATE SET n = t.n + excluded.n;
"""

CREATE = f"""
CREATE FUNCTION submission_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {UPSERT.format(rows=NEW_ROWS)}
    ELSIF TG_OP = 'DELETE' THEN
        {UPSERT.format(rows=OLD_ROWS)}
    ELSE
        {UPSERT.format(rows=NEW_ROWS + " UNION ALL " + OLD_ROWS)}
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION submission_tally_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM submissions_submissiontally;
    RETURN NULL;
END
$$;

CREATE TRIGGER submission_tally_insert AFTER INSERT ON submissions_submission
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION submission_tally();
CREATE TRIGGER submission_tally_update AFTER UPDATE ON submissions_submission
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION submission_tally();
CREATE TRIGGER submission_tally_delete AFTER DELETE ON submissions_submission
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION submission_tally();
CREATE TRIGGER submission_tally_truncate AFTER TRUNCATE ON submissions_submission
    FOR EACH STATEMENT EXECUTE FUNCTION submission_tally_truncate();

INSERT INTO submissions_submissiontally
    (call_id, day, review_status, is_late, withdrawal_requested, n)
SELECT call_id, day, review_status, is_late, withdrawal_requested, count(*)
FROM ({NEW_ROWS.replace("new_rows", "submissions_submission")}) AS existing
GROUP BY 1, 2, 3, 4, 5;
"""  # noqa: S608 (this module's own SQL; no input reaches it)

DROP = """
DROP TRIGGER IF EXISTS submission_tally_insert ON submissions_submission;
DROP TRIGGER IF EXISTS submission_tally_update ON submissions_submission;
DROP TRIGGER IF EXISTS submission_tally_delete ON submissions_submission;
DROP TRIGGER IF EXISTS submission_tally_truncate ON submissions_submission;
DROP FUNCTION IF EXISTS submission_tally();
DROP FUNCTION IF EXISTS submission_tally_truncate();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("submissions", "0021_synthesis_pack_pdf")]

    operations = [
        migrations.CreateModel(
            name="SubmissionTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(null=True)),
                (
                    "review_status",
                    models.CharField(
                        choices=[
                            ("new", "New"),
                            ("in_review", "In review"),
                            ("shortlisted", "Shortlisted"),
                            ("included", "Included in toolkit"),
                            ("not_included", "Not included"),
                        ],
                        max_length=20,
                    ),
                ),
                ("is_late", models.BooleanField()),
                ("withdrawal_requested", models.BooleanField()),
                ("n", models.BigIntegerField(default=0)),
                (
                    "call",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="submissions.call",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("call", "day", "review_status", "is_late", "withdrawal_requested"),
                        name="submission_tally_key",
                    )
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]

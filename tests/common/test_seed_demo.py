from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F

from submissions.models import REFERENCE_ALPHABET, Call, Submission
from tests.factories import make_call

LONDON = ZoneInfo("Europe/London")


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def test_it_seeds_submitted_submissions_with_unique_references(seeded_call):
    seed(submissions=30, batch_size=7, seed=1)

    submissions = list(Submission.objects.filter(call=seeded_call))
    assert len(submissions) == 30
    assert {s.state for s in submissions} == {Submission.State.SUBMITTED}
    references = [s.reference for s in submissions]
    assert len(set(references)) == 30
    assert all(len(r) == 8 and set(r) <= set(REFERENCE_ALPHABET) for r in references)


def test_a_second_run_adds_submissions_without_reusing_references(seeded_call):
    seed(submissions=20, seed=1)
    seed(submissions=20, seed=1)

    references = Submission.objects.values_list("reference", flat=True)
    assert len(set(references)) == 40


def test_every_question_has_an_answer_and_about_3_kb_in_all(seeded_call):
    seed(submissions=40, seed=2)

    question_ids = {str(pk) for pk in seeded_call.questions.values_list("pk", flat=True)}
    sizes = []
    for submission in Submission.objects.all():
        assert set(submission.answers) == question_ids
        assert all(answer.strip() for answer in submission.answers.values())
        sizes.append(sum(len(answer.encode()) for answer in submission.answers.values()))
    assert 2800 <= sum(sizes) / len(sizes) <= 4000


def test_contributors_and_reviews_vary(seeded_call):
    seed(submissions=200, seed=3)

    submissions = Submission.objects.all()
    assert submissions.values("name").distinct().count() > 100
    assert submissions.values("organisation").distinct().count() > 10
    assert submissions.values("review_status").distinct().count() == 5
    assert submissions.filter(themes__isnull=False).distinct().count() > 40
    assert submissions.exclude(links=[]).count() > 100
    # Notes only on submissions a reviewer has looked at.
    assert not submissions.filter(review_status="new").exclude(reviewer_notes="").exists()
    assert submissions.exclude(review_status="new").exclude(reviewer_notes="").exists()


def test_only_submissions_after_the_deadline_are_flagged_late(seeded_call):
    seed(submissions=200, seed=4)

    late = Submission.objects.filter(is_late=True)
    assert 0 < late.count() < 40
    assert not late.filter(submitted_at__lt=seeded_call.closed_from).exists()
    on_time = Submission.objects.filter(is_late=False)
    assert not on_time.filter(submitted_at__gte=seeded_call.closed_from).exists()
    assert not Submission.objects.filter(submitted_at__lt=seeded_call.opens_at).exists()
    assert not Submission.objects.filter(consent_given_at__lt=seeded_call.opens_at).exists()
    assert not Submission.objects.filter(consent_given_at__gt=F("submitted_at")).exists()


def test_a_call_that_refuses_late_submissions_gets_none(db):
    call = make_call(
        slug="strict",
        late_policy=Call.LatePolicy.REFUSE,
        opens_at=datetime(2019, 1, 1, tzinfo=LONDON),
        closes_at=datetime(2019, 2, 1, 12, 0, tzinfo=LONDON),
    )

    seed(submissions=100, call="strict", seed=5)

    assert call.submissions.count() == 100
    assert not call.submissions.filter(is_late=True).exists()
    assert not call.submissions.filter(submitted_at__gte=call.closed_from).exists()


def test_it_prints_progress_and_a_summary(seeded_call):
    output = seed(submissions=30, batch_size=10)

    assert "30/30 submissions" in output
    assert "Seeded 30 submissions to what-works-social-media." in output


def test_an_unknown_call_is_refused_with_a_clear_message(db):
    with pytest.raises(CommandError, match="No call with the slug 'nope'"):
        seed(submissions=1, call="nope")


def test_queries_grow_with_batches_not_with_submissions(seeded_call, django_assert_num_queries):
    # 5 to set up, then per batch: savepoint, (on PostgreSQL, ids from the sequence, then a
    # COPY; elsewhere one INSERT), their themes, release; on PostgreSQL, ANALYZE at the end.
    per_batch, end = (5, 1) if connection.vendor == "postgresql" else (4, 0)
    with django_assert_num_queries(5 + 2 * per_batch + end):
        seed(submissions=40, batch_size=20, seed=6)
    assert Submission.objects.count() == 40


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_rows_copied_in_read_back_as_the_orm_would_store_them(seeded_call):
    seed(submissions=45, batch_size=7, seed=3)

    submissions = list(Submission.objects.filter(call=seeded_call).prefetch_related("themes"))
    assert len(submissions) == 45
    for submission in submissions:
        assert isinstance(submission.answers, dict) and isinstance(submission.links, list)
        assert submission.co_contributors == []
        assert submission.created_at is not None and submission.updated_at is not None
        assert len(submission.token) > 20
        assert 0 <= submission.themes.count() <= 3
    # Every theme row points at a seeded submission (ids came from the table's sequence).
    Through = Submission.themes.through
    assert Through.objects.count() == Through.objects.filter(submission__call=seeded_call).count()
    assert Through.objects.exists()
    # The search trigger ran for every copied row: the admin's search finds the seeded prose.
    with_document = Submission.objects.filter(search_document__isnull=False)
    assert with_document.count() == 45
    assert Submission.objects.filter(search_document="workshop").exists()
    # The sequence moved past the copied ids: the next ordinary insert does not collide.
    draft = Submission.objects.create(call=seeded_call)
    assert draft.pk > max(s.pk for s in submissions)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics are PostgreSQL's")
def test_the_planner_knows_the_rows_seeded_as_soon_as_the_command_ends(seeded_call):
    def planned_rows() -> float:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE relname = 'submissions_submission'"
            )
            return cursor.fetchone()[0]

    seed(submissions=120, batch_size=50, seed=4)

    assert planned_rows() == Submission.objects.count() == 120

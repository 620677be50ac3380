"""Searching submissions in the admin, by reference, person, organisation or answer text."""

import pytest
from django.db import connection
from django.urls import reverse

from submissions.models import Submission
from submissions.review.search import search_submissions
from tests.factories import make_call, make_reviewer, make_submission

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:submissions_submission_changelist")
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text search is PostgreSQL's"
)


@pytest.fixture
def found(client):
    client.force_login(make_reviewer(every_call=True))

    def search(text: str) -> set[str]:
        response = client.get(LIST_URL, {"q": text})
        assert response.status_code == 200
        return {obj.reference for obj in response.context["cl"].result_list}

    return search


@pytest.fixture
def call():
    return make_call(questions=2)


def answers_for(call, text: str) -> dict[str, str]:
    first = call.questions.first()
    return {str(first.pk): text}


def test_it_finds_a_submission_by_its_reference(found, call):
    wanted = make_submission(call)
    make_submission(call)

    assert found(wanted.reference) == {wanted.reference}
    assert found(wanted.reference.lower()) == {wanted.reference}


def test_it_finds_by_name_email_and_organisation(found, call):
    ada = make_submission(call, name="Ada Lovelace", email="ada@analytical.example")
    grace = make_submission(call, organisation="Harvard Computation Laboratory")

    assert found("Lovelace") == {ada.reference}
    assert found("ada@analytical.example") == {ada.reference}
    assert found("Harvard") == {grace.reference}


def test_it_finds_words_in_the_answers(found, call):
    podcast = make_submission(call, answers=answers_for(call, "We recorded a weekly podcast."))
    make_submission(call, answers=answers_for(call, "We wrote a blog."))

    assert found("podcast") == {podcast.reference}


def test_every_word_must_match_and_each_may_be_the_start_of_a_word(found, call):
    both = make_submission(call, answers=answers_for(call, "Social media for public engagement"))
    social = make_submission(call, answers=answers_for(call, "Social events in the town hall"))

    assert found("soc engagement") == {both.reference}
    assert found("social") == {both.reference, social.reference}


def test_it_finds_nothing_for_words_nobody_used(found, call):
    make_submission(call)

    assert found("xylophone") == set()


def test_search_syntax_in_the_box_is_read_as_words_not_as_a_query(found, call):
    obrien = make_submission(call, name="Siobhan O'Brien")
    both = make_submission(call, answers=answers_for(call, "A podcast or a blog, we asked."))
    make_submission(call, answers=answers_for(call, "We recorded a weekly podcast."))
    make_submission(call, answers=answers_for(call, "We wrote a blog."))

    assert found("O'Brien") == {obrien.reference}
    # As a query, "or" would find all three; as words, each must match.
    assert found("podcast or blog") == {both.reference}
    # As a query, these operators would be a syntax error; as words, nobody used them.
    assert found("a & | ! ( ) :* <->") == set()
    for text in ["\\", "'"]:
        found(text)  # no server error; what it finds depends on the database's parser


def test_drafts_stay_hidden_from_a_search(found, call):
    make_submission(call, state=Submission.State.DRAFT, name="Ada Lovelace")

    assert found("Lovelace") == set()


@on_postgresql
def test_a_search_reads_the_full_text_index_not_the_whole_table(call):
    make_submission(call)
    queryset = search_submissions(Submission.objects.all(), "engagement").values("pk")
    sql, params = queryset.query.sql_with_params()

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "submission_search" in plan


@on_postgresql
def test_the_search_document_follows_the_contributors_words_but_not_review_changes(call):
    submission = make_submission(call, name="Ada Lovelace")
    submission.name = "Grace Hopper"
    submission.save()
    Submission.objects.filter(pk=submission.pk).update(review_status="shortlisted")

    def matches(text: str) -> bool:
        return search_submissions(Submission.objects.filter(pk=submission.pk), text).exists()

    assert matches("Hopper")
    assert not matches("Lovelace")

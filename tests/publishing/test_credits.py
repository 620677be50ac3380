"""The public credits page: who is credited in the latest release, as they chose, each linked to
the contribution's page, and what is never shown."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from submissions.models import Submission
from tests.factories import make_call, make_submission
from tests.publishing.helpers import page_url, publish

pytestmark = pytest.mark.django_db

INCLUDED = Submission.ReviewStatus.INCLUDED
Credit = Submission.Credit


def credits_url(call) -> str:
    return reverse("credits", args=[call.slug])


def included(call, **fields) -> Submission:
    return make_submission(call, review_status=INCLUDED, **fields)


def test_it_credits_each_included_submission_as_its_contributor_chose(client):
    call = make_call()
    included(
        call,
        name="Ada Lovelace",
        organisation="Analytical Engines Ltd",
        email="ada@example.org",
        role="Countess of Lovelace",
    )
    included(
        call,
        name="Grace Hopper",
        organisation="US Navy",
        credit_preference=Credit.ORGANISATION_ONLY,
    )
    secret = included(
        call,
        name="Secret Person",
        organisation="Secret Org",
        email="secret@example.org",
        credit_preference=Credit.NONE,
    )
    publish(call)

    response = client.get(credits_url(call))

    assert response.status_code == 200
    ada, grace = Submission.objects.filter(name__in=["Ada Lovelace", "Grace Hopper"]).order_by(
        "name"
    )
    assert [line for line, _ in response.context["groups"]] == [
        "Ada Lovelace, Analytical Engines Ltd",
        "US Navy",
        "",
    ]
    page = response.text
    assert (
        f'<li><a href="{page_url(call, ada)}">Ada Lovelace, Analytical Engines Ltd</a></li>' in page
    )
    assert f'<li><a href="{page_url(call, grace)}">US Navy</a></li>' in page
    assert f'<li><a href="{page_url(call, secret)}">Anonymous contributor</a></li>' in page
    assert "Grace Hopper" not in page  # organisation only
    assert "Secret Person" not in page and "Secret Org" not in page
    assert "1 of them from contributors who asked not to be named" in page
    # No contributor's address (the page's footer gives the call's own contact address).
    for private in [*Submission.objects.values_list("email", flat=True), "Countess"]:
        assert private not in page


def test_it_never_lists_submissions_not_included_drafts_or_withdrawn(client):
    call = make_call()
    included(call, name="Shown Person", organisation="Shown Org")
    for status in ("new", "in_review", "shortlisted", "not_included"):
        make_submission(call, name=f"Status {status}", review_status=status)
    included(call, name="Draft Person", state=Submission.State.DRAFT)
    included(call, name="Withdrawing Person", withdrawal_requested_at=timezone.now())
    other_call = make_call()
    included(other_call, name="Other Call Person")
    publish(call)
    publish(other_call)

    page = client.get(credits_url(call)).text

    assert "Shown Person, Shown Org" in page
    for absent in ("Status ", "Draft Person", "Withdrawing Person", "Other Call Person"):
        assert absent not in page
    assert "asked not to be named" not in page


def test_it_counts_several_who_asked_not_to_be_named_after_the_names(client):
    call = make_call()
    included(call, name="Named One", organisation="Org")
    unnamed = [included(call, credit_preference=Credit.NONE) for _ in range(3)]
    publish(call)

    page = client.get(credits_url(call)).text

    assert "4 contributions, 3 of them from contributors who asked not to be named" in page
    links = ", ".join(
        f'<a href="{page_url(call, s)}">contribution {s.public.public_id}</a>'
        for s in sorted(unnamed, key=lambda s: s.pk)
    )
    assert f"<li>Anonymous contributors: {links}</li>" in page
    assert page.index("Named One, Org") < page.index("Anonymous contributors")


def test_names_are_sorted_ignoring_case_and_accents_and_listed_once(client):
    call = make_call()
    for name in ["zoë Zed", "Émile Durand", "eleanor Rigby", "Fatima Ali", "Émile Durand"]:
        included(call, name=name, organisation="Org")
    publish(call)

    groups = client.get(credits_url(call)).context["groups"]

    assert [line for line, _ in groups] == [
        "eleanor Rigby, Org",
        "Émile Durand, Org",
        "Fatima Ali, Org",
        "zoë Zed, Org",
    ]
    assert [len(ids) for _, ids in groups] == [1, 2, 1, 1]  # one line, both contributions


def test_it_names_the_licence_and_how_to_credit_the_toolkit(client):
    call = make_call(title="What Works: Testing")
    included(call)
    publish(call)

    page = client.get(credits_url(call)).text

    assert 'href="https://creativecommons.org/licenses/by-nc/4.0/"' in page
    assert "CC-BY-NC-4.0" in page
    assert "How to credit the toolkit" in page
    assert f"http://127.0.0.1:8000/{call.slug}/credits/" in page
    assert reverse("open_data", args=[call.slug]) in page


def test_there_is_no_page_before_a_release_however_many_are_included(client):
    call = make_call()
    make_submission(call, review_status=Submission.ReviewStatus.SHORTLISTED)
    included(call, name="Included Person")

    assert client.get(credits_url(call)).status_code == 404


def test_a_call_manager_can_hide_the_page(client):
    call = make_call(credits_hidden=True)
    submission = included(call)
    publish(call)

    assert client.get(credits_url(call)).status_code == 404
    assert client.get(reverse("open_data", args=[call.slug])).status_code == 404
    assert client.get(page_url(call, submission)).status_code == 404


def test_an_unpublished_call_has_no_credits_page(client):
    call = make_call(published=False)
    included(call)
    publish(call)

    assert client.get(credits_url(call)).status_code == 404


def test_every_contributor_value_is_escaped(client):
    call = make_call()
    script = '<script>alert("x")</script>'
    included(call, name=f"Name {script}", organisation=f"Org & {script}")
    included(call, organisation=f"Only {script}", credit_preference=Credit.ORGANISATION_ONLY)
    publish(call)

    page = client.get(credits_url(call)).text

    assert "<script>alert" not in page
    assert (
        "Name &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;, Org &amp; &lt;script&gt;" in page
    )
    assert "Only &lt;script&gt;" in page


def test_the_start_page_and_the_closed_page_link_to_the_credits_once_shown(client):
    call = make_call(closes_at=timezone.now() - timedelta(days=1))
    credits = credits_url(call)
    assert credits not in client.get(reverse("start", args=[call.slug])).text
    assert credits not in client.get(reverse("closed", args=[call.slug])).text

    included(call)
    assert credits not in client.get(reverse("start", args=[call.slug])).text  # not yet
    publish(call)

    assert f'href="{credits}"' in client.get(reverse("start", args=[call.slug])).text
    assert f'href="{credits}"' in client.get(reverse("closed", args=[call.slug])).text

    call.credits_hidden = True
    call.save()
    assert credits not in client.get(reverse("start", args=[call.slug])).text


@pytest.mark.parametrize("count", [3, 60])
def test_the_page_makes_three_queries_however_many_are_credited(
    client, django_assert_num_queries, count
):
    call = make_call()
    for n in range(count):
        included(call, name=f"Person {n:03d}", organisation=f"Org {n % 7}")
    included(call, credit_preference=Credit.NONE)
    publish(call)

    with django_assert_num_queries(3):  # the call, its latest release, a page of credits
        response = client.get(credits_url(call))

    assert len(response.context["groups"]) == count + 1


def test_credits_come_a_page_at_a_time(client, settings, monkeypatch):
    from submissions.publishing import views

    monkeypatch.setattr(views, "CREDITS_PER_PAGE", 2)
    call = make_call()
    for name in ["Dee", "Bea", "Cat", "Abe", "Eve"]:
        included(call, name=name, organisation="Org")
    publish(call)

    first = client.get(credits_url(call))
    third = client.get(credits_url(call) + "?page=3")

    assert [line for line, _ in first.context["groups"]] == ["Abe, Org", "Bea, Org"]
    assert "Page 1 of 3." in first.text and 'href="?page=2" rel="next"' in first.text
    assert [line for line, _ in third.context["groups"]] == ["Eve, Org"]
    assert client.get(credits_url(call) + "?page=4").status_code == 404
    assert client.get(credits_url(call) + "?page=x").status_code == 404

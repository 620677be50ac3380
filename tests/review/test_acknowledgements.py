"""The toolkit authors' admin page: included contributions by theme, and the acknowledgements."""

import html

import pytest
from django.urls import reverse

from submissions.models import Submission, Theme
from tests.factories import (
    assign,
    make_call,
    make_call_manager,
    make_reviewer,
    make_staff_without_group,
    make_submission,
)

pytestmark = pytest.mark.django_db

Credit = Submission.Credit


def page_url(call) -> str:
    return reverse("admin:submissions_call_acknowledgements", args=[call.pk])


@pytest.fixture
def call():
    call = make_call()
    podcasts, video = Theme.objects.create(name="Podcasts"), Theme.objects.create(name="Video")
    ada = make_submission(
        call, review_status="included", name="Ada Lovelace", organisation="Engines"
    )
    ada.themes.set([podcasts, video])
    grace = make_submission(
        call,
        review_status="included",
        organisation="US Navy [*]",
        credit_preference=Credit.ORGANISATION_ONLY,
    )
    grace.themes.set([podcasts])
    make_submission(call, review_status="included", credit_preference=Credit.NONE)
    make_submission(call, review_status="shortlisted", name="Not Yet")
    return call


def test_it_lists_included_contributions_by_theme_with_their_credit_lines(client, call):
    client.force_login(make_reviewer(every_call=True))

    response = client.get(page_url(call))

    assert response.status_code == 200
    groups = [
        (theme, [line for _, line in entries]) for theme, entries in response.context["groups"]
    ]
    assert groups == [
        ("Podcasts", ["Ada Lovelace, Engines", "US Navy [*]"]),
        ("Video", ["Ada Lovelace, Engines"]),
        ("No theme", [""]),
    ]
    assert "(asked not to be named)" in response.text
    assert "Not Yet" not in response.text
    assert "@example.org" not in response.text


def test_it_gives_the_acknowledgements_as_plain_text_and_markdown(client, call):
    client.force_login(make_call_manager())

    response = client.get(page_url(call))

    title = call.title
    assert response.context["plain"] == (
        f"With thanks to the contributors to “{title}”:\n\n"
        "Ada Lovelace, Engines\nUS Navy [*]\n\n"
        "and 1 contributor who asked not to be named.\n"
    )
    assert response.context["markdown"] == (
        f"With thanks to the contributors to “{title}”:\n\n"
        "- Ada Lovelace, Engines\n- US Navy \\[\\*\\]\n\n"
        "and 1 contributor who asked not to be named.\n"
    )
    assert 'id="acknowledgements-markdown"' in response.text


def test_the_call_list_links_to_it(client, call):
    client.force_login(make_call_manager())

    response = client.get(reverse("admin:submissions_call_changelist"))

    assert f'href="{page_url(call)}"' in response.text


def test_contributor_values_are_escaped(client):
    call = make_call()
    make_submission(
        call, review_status="included", name="<script>x</script>", organisation="<b>Org</b>"
    )
    client.force_login(make_reviewer(every_call=True))

    page = client.get(page_url(call)).text

    assert "<script>x" not in page and "<b>Org" not in page
    assert "&lt;script&gt;x&lt;/script&gt;, &lt;b&gt;Org&lt;/b&gt;" in page


def test_staff_without_permission_to_view_submissions_are_refused(client, call):
    client.force_login(make_staff_without_group())

    assert client.get(page_url(call)).status_code == 403


def test_an_unknown_call_is_not_found(client):
    client.force_login(make_reviewer(every_call=True))

    assert (
        client.get(reverse("admin:submissions_call_acknowledgements", args=[999])).status_code
        == 404
    )


@pytest.mark.parametrize("count", [2, 30])
def test_it_makes_a_fixed_number_of_queries(client, django_assert_num_queries, count):
    call = make_call()
    theme = Theme.objects.create(name="Podcasts")
    for n in range(count):
        make_submission(call, review_status="included", name=f"P {n}").themes.add(theme)
    client.force_login(make_reviewer(every_call=True))
    client.get(page_url(call))

    # Session, user, its permissions and its groups', the call, the submissions, their themes.
    with django_assert_num_queries(7):
        response = client.get(page_url(call))

    assert len(response.context["groups"][0][1]) == count


def test_each_reference_links_to_its_submission(client, call):
    client.force_login(make_reviewer(every_call=True))
    submission = Submission.objects.get(name="Ada Lovelace")

    page = client.get(page_url(call)).text

    change_url = reverse("admin:submissions_submission_change", args=[submission.pk])
    assert page.count(f'<a href="{change_url}">{submission.reference}</a>') == 2  # two themes


def download_url(call, kind: str) -> str:
    return reverse("admin:submissions_call_acknowledgements_download", args=[call.pk, kind])


@pytest.mark.parametrize(
    ("kind", "content_type", "line"),
    [
        ("txt", "text/plain; charset=utf-8", "Ada Lovelace, Engines"),
        ("md", "text/markdown; charset=utf-8", "- Ada Lovelace, Engines"),
    ],
)
def test_the_acknowledgements_download_as_files(client, call, kind, content_type, line):
    client.force_login(make_call_manager())
    page = client.get(page_url(call)).text

    response = client.get(download_url(call, kind))

    assert f'href="{download_url(call, kind)}" download>' in page
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == (
        f'attachment; filename="acknowledgements-{call.slug}.{kind}"'
    )
    text = response.content.decode()
    assert line in text.splitlines()
    assert "Not Yet" not in text
    box = "acknowledgements-plain" if kind == "txt" else "acknowledgements-markdown"
    shown = page.split(f'<textarea id="{box}"')[1].split(">", 1)[1].split("</textarea>")[0]
    assert html.unescape(shown) == text  # the file holds what the box shows


def test_the_text_boxes_fit_their_lines_and_offer_copy_only_with_javascript(client, call):
    client.force_login(make_call_manager())

    page = client.get(page_url(call)).text

    assert '<textarea id="acknowledgements-plain" rows="6" readonly>' in page
    assert '<button type="button" class="button" data-copy="acknowledgements-plain" hidden>' in page
    assert 'src="/static/review/copy_text.js"' in page


def test_a_reviewer_downloads_only_the_acknowledgements_of_their_calls(client, call):
    alice = make_reviewer("alice")
    assign(alice, make_call())
    client.force_login(alice)

    assert client.get(download_url(call, "txt")).status_code == 404
    assign(alice, call)
    assert client.get(download_url(call, "txt")).status_code == 200
    assert client.get(download_url(call, "csv")).status_code == 404


def test_a_call_with_more_than_it_lists_gets_the_count_a_link_and_the_files(
    client, call, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr("submissions.review.admin.credits.LISTED_AT_MOST", 2)
    client.force_login(make_call_manager())
    client.get(page_url(call))

    # Session, user, its permissions and its groups', the call, up to 3 included, the tally.
    with django_assert_num_queries(7):
        response = client.get(page_url(call))

    page = response.text
    assert "3 contributions included in the toolkit." in page
    assert "Ada Lovelace" not in page and "<textarea" not in page
    changelist = reverse("admin:submissions_submission_changelist")
    assert (
        f'<a href="{changelist}?call__id__exact={call.pk}&amp;review_status__exact=included">'
        "see them in the list of submissions</a>"
    ) in page
    assert f'href="{download_url(call, "txt")}" download>' in page
    assert f'href="{download_url(call, "md")}" download>' in page
    text = client.get(download_url(call, "txt")).content.decode()
    assert "Ada Lovelace, Engines" in text.splitlines()

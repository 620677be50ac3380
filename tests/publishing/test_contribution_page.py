"""Each published contribution's page, how to cite it, and the Atom feed of releases."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
from django.urls import reverse

from submissions.models import Submission
from tests.factories import make_call, make_submission
from tests.publishing.helpers import INCLUDED, page_url, public_id, publish

pytestmark = pytest.mark.django_db

Credit = Submission.Credit
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def ada():
    call = make_call(questions=2, title="What Works: Testing")
    q1, q2 = call.questions.all()
    return make_submission(
        call,
        review_status=INCLUDED,
        name="Ada Lovelace",
        organisation="Engines & Co",
        email="ada@example.org",
        answers={str(q1.pk): "First paragraph.\n\nSecond <b>paragraph</b>.", str(q2.pk): ""},
        links=["https://example.org/report", "javascript:alert(1)"],
        co_contributors=[{"name": "Grace Hopper", "organisation": "Navy", "orcid": ""}],
    )


def test_the_page_shows_the_credit_answers_links_licence_and_first_release(client, ada):
    release = publish(ada.call)

    response = client.get(page_url(ada.call, ada))

    page = response.text
    assert response.status_code == 200
    assert (
        '<strong class="credit-line">Ada Lovelace, Engines &amp; Co; Grace Hopper, Navy</strong>'
    ) in page
    assert "<p>First paragraph.</p>\n<p>Second &lt;b&gt;paragraph&lt;/b&gt;.</p>" in page
    assert "(Not answered.)" in page
    assert '<a href="https://example.org/report" rel="nofollow ugc">' in page
    assert "<li>javascript:alert(1)</li>" in page  # shown, never linked
    assert 'href="https://creativecommons.org/licenses/by-nc/4.0/" rel="license"' in page
    assert f"release {release.number}</a>" in page
    for private in ("ada@example.org", ada.reference, "Lecturer"):
        assert private not in page
    assert response["Cache-Control"] == "public, no-cache"
    again = client.get(page_url(ada.call, ada), headers={"if-none-match": response["ETag"]})
    assert again.status_code == 304


def test_how_to_cite_it_as_text_bibtex_and_csl_json(client, ada):
    publish(ada.call)
    pid = public_id(ada)
    url = f"http://127.0.0.1:8000/{ada.call.slug}/contributions/{pid}/"

    page = client.get(page_url(ada.call, ada)).text
    bib = client.get(reverse("citation", args=[ada.call.slug, pid, "bib"]))
    csl = client.get(reverse("citation", args=[ada.call.slug, pid, "json"]))

    year = datetime.now().year
    assert (
        f"Ada Lovelace and Grace Hopper ({year}). Contribution {pid} to the call for evidence "
        "“What Works: Testing”, release 1"
    ) in page
    assert f"{url}. Licence: CC-BY-NC-4.0." in page
    assert bib["Content-Disposition"] == f'attachment; filename="{pid}.bib"'
    assert bib.text.startswith(
        f"@misc{{cfe-{pid},\n  author = {{{{Ada Lovelace}} and {{Grace Hopper}}}},"
    )
    assert f"  url = {{{url}}}," in bib.text
    assert f"  year = {{{year}}}," in bib.text
    (item,) = json.loads(csl.content)
    assert item["author"] == [{"literal": "Ada Lovelace"}, {"literal": "Grace Hopper"}]
    assert item["URL"] == url and item["issued"]["date-parts"][0][0] == year
    assert csl["Content-Type"].startswith("application/vnd.citationstyles.csl+json")
    assert client.get(reverse("citation", args=[ada.call.slug, pid, "exe"])).status_code == 404


def test_bibtex_escapes_what_contributors_typed(client):
    call = make_call()
    person = make_submission(
        call, review_status=INCLUDED, name="A}{\\b & 100% $x #1 _y ^z ~w", organisation="O"
    )
    publish(call)

    bib = client.get(reverse("citation", args=[call.slug, public_id(person), "bib"])).text

    assert r"{A\}\{\textbackslash{}b \& 100\% \$x \#1 \_y \^{}z \~{}w}" in bib
    assert bib.count("{") == bib.count("}") - bib.count(r"\}") + bib.count(r"\{")


def test_one_who_asked_not_to_be_named_gets_a_page_credited_anonymous_contributor(client):
    call = make_call()
    hidden = make_submission(
        call, review_status=INCLUDED, name="Hidden Name", credit_preference=Credit.NONE
    )
    publish(call)

    page = client.get(page_url(call, hidden)).text
    bib = client.get(reverse("citation", args=[call.slug, public_id(hidden), "bib"])).text

    assert '<strong class="credit-line">Anonymous contributor</strong>' in page
    assert "Hidden Name" not in page and "Hidden Name" not in bib
    assert "author = {{Anonymous contributor}}" in bib


def test_the_page_shows_the_latest_credit_line_and_no_page_before_release(client, ada):
    assert client.get(f"/{ada.call.slug}/contributions/abcdefghjkmn/").status_code == 404
    publish(ada.call)
    Submission.objects.filter(pk=ada.pk).update(credit_preference=Credit.ORGANISATION_ONLY)
    assert "Ada Lovelace" in client.get(page_url(ada.call, ada)).text  # until the next release
    publish(ada.call)

    page = client.get(page_url(ada.call, ada)).text

    assert '<strong class="credit-line">Engines &amp; Co; Grace Hopper, Navy</strong>' in page
    assert 'First published</dt><dd class="col-sm-8">In <a' in page
    assert "Release 2</a>" in page


def test_a_contribution_left_out_of_the_latest_release_shows_as_last_released(client, ada):
    publish(ada.call)
    Submission.objects.filter(pk=ada.pk).update(review_status="not_included")
    make_submission(ada.call, review_status=INCLUDED)
    publish(ada.call)

    page = client.get(page_url(ada.call, ada)).text

    assert "This contribution is not in the latest release (2)" in page


def test_the_page_makes_a_fixed_number_of_queries(client, ada, django_assert_num_queries):
    publish(ada.call)
    url = page_url(ada.call, ada)

    # The call, its latest release, the contribution, its entry, its redactions.
    with django_assert_num_queries(5):
        assert client.get(url).status_code == 200


def iso(text: str) -> datetime:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", text), text
    return datetime.fromisoformat(text)


def test_the_feed_of_releases_is_valid_atom(client, ada):
    publish(ada.call, notes="First.")
    make_submission(ada.call, review_status=INCLUDED)
    publish(ada.call, notes="Second.")

    response = client.get(reverse("releases_feed", args=[ada.call.slug]))

    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)  # noqa: S314 (our own feed, from the test server)
    # RFC 4287 section 4.1.1: a feed has exactly one id, title and updated, an author (or
    # every entry has one), and should link to itself.
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"{ATOM}{name}")) == 1, name
    assert feed.find(f"{ATOM}author/{ATOM}name").text == "NCCPE"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links["self"] == f"http://127.0.0.1:8000/{ada.call.slug}/open-data/releases.atom"
    assert links["alternate"] == f"http://127.0.0.1:8000/{ada.call.slug}/open-data/"
    assert feed.find(f"{ATOM}id").text.startswith("http://")
    iso(feed.find(f"{ATOM}updated").text)
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["Release 2", "Release 1"]
    ids = set()
    for entry in entries:  # 4.1.2: exactly one id, title, updated; an alternate link.
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        ids.add(entry.find(f"{ATOM}id").text)
        iso(entry.find(f"{ATOM}updated").text)
        assert entry.find(f"{ATOM}link").get("rel") == "alternate"
    assert len(ids) == 2
    assert "Second." in entries[0].find(f"{ATOM}summary").text
    assert feed.find(f"{ATOM}updated").text == entries[0].find(f"{ATOM}updated").text

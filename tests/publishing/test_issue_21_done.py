"""Issue 21's "Done when", walked end to end through the public site and the admin, as the people
in it would: a reviewer includes a contribution and nothing public changes; a call manager
redacts a third party's name with a reason and publishes release 2; the contribution's page shows
the redaction and how to cite it; release 2's open data validates, names its version and date,
and downloads again as the same bytes; the contributor gets an email with the page's link.

Only public URLs and admin views are used to act and to look (the database is read only to
confirm the reviewer's decision was saved), so the test holds whatever the releases are made of.
"""

import json
import re
from datetime import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from frictionless import Package, system

from submissions.models import Submission
from tests.factories import assign, make_call, make_call_manager, make_reviewer, make_submission
from tests.publishing.helpers import body
from tests.worker import run_worker

pytestmark = pytest.mark.django_db

FILES = ("datapackage.json", "contributions.csv", "contributions.json")
THIRD_PARTY = "Jane Smith"
REDACTED = "[redacted: personal data]"


def public_outputs(reader: Client, call) -> dict[str, bytes]:
    """Every public page and file of the call, as a reader gets them (a nonce aside)."""
    slug = call.slug
    urls = [
        reverse("start", args=[slug]),
        reverse("credits", args=[slug]),
        reverse("outcome", args=[slug]),
        reverse("open_data", args=[slug]),
        reverse("releases_feed", args=[slug]),
        reverse("release_page", args=[slug, 1]),
        reverse("release_page", args=[slug, 2]),
        *(reverse("open_data_file", args=[slug, name]) for name in FILES),
        *(reverse("release_file", args=[slug, 1, name]) for name in FILES),
        *(reverse("release_file", args=[slug, 2, name]) for name in FILES),
    ]
    credits = reader.get(reverse("credits", args=[slug])).text
    urls += sorted(set(re.findall(rf'href="(/{slug}/contributions/[^"]+/)"', credits)))
    outputs = {}
    for url in urls:
        response = reader.get(url)
        outputs[url] = b"%d " % response.status_code + re.sub(
            rb'nonce="[^"]*"', b"", body(response)
        )
    return outputs


def contribution_link(reader: Client, call, credit_line: str) -> str:
    """The contribution's page, as a reader finds it: its credit line on the credits page."""
    credits = reader.get(reverse("credits", args=[call.slug])).text
    found = re.search(rf'<a href="(/{call.slug}/contributions/[^"]+/)">{credit_line}</a>', credits)
    assert found, credits
    return found.group(1)


def test_issue_21_done_when(client, tmp_path):
    site = settings.SITE_URL
    call = make_call(questions=1, title="What Works: Done When")
    question = call.questions.get()
    make_submission(call, review_status="included", name="First Person", organisation="")
    manager = Client()
    manager.force_login(make_call_manager(first_name="Bob", last_name="Manager"))
    releases = reverse("admin:submissions_call_releases", args=[call.pk])
    published = manager.post(releases, {"number": "1", "notes": "", "checked": "on"})
    assert published.status_code == 302
    # The outcome page is public too, and credits from the latest release (on 8cdb6c7 it
    # credited a contribution as soon as a reviewer included it, and this test failed).
    outcome = reverse("admin:submissions_call_outcome", args=[call.pk])
    assert manager.post(outcome, {"action": "publish_outcome"}).status_code == 302
    assert client.get(reverse("outcome", args=[call.slug])).status_code == 200
    ada = make_submission(
        call,
        name="Ada Lovelace",
        organisation="Analytical Engines",
        email="ada@example.org",
        answers={str(question.pk): f"We ran the workshop with {THIRD_PARTY}, our archivist."},
        links=[],
    )
    run_worker()
    mail.outbox.clear()  # release 1's email to First Person, and Ada's receipt

    # A reviewer includes it, in the admin: nothing public changes.
    reviewer = Client()
    alice = make_reviewer("alice")
    assign(alice, call)
    reviewer.force_login(alice)
    before = public_outputs(client, call)
    decided = reviewer.post(
        reverse("admin:submissions_submission_change", args=[ada.pk]),
        {"review_status": "included", "reviewer_notes": "", "_continue": "Save"},
    )
    assert decided.status_code == 302
    assert Submission.objects.get(pk=ada.pk).review_status == "included"
    assert public_outputs(client, call) == before
    assert not any(b"Ada Lovelace" in output for output in before.values())
    run_worker()
    assert mail.outbox == []

    # A call manager redacts the third party's name, with a reason, and publishes release 2.
    redactions = reverse("admin:submissions_submission_redactions", args=[ada.pk])
    redacted = manager.post(
        redactions,
        {
            "part": f"answer:{question.pk}",
            "text": THIRD_PARTY,
            "reason": "third_party",
            "note": "",
        },
        follow=True,
    )
    assert "Redacted. The public text below shows it." in redacted.text
    assert f"We ran the workshop with {REDACTED}, our archivist." in redacted.text
    assert "Personal data of a third party" in redacted.text
    preview = manager.get(releases)
    assert "<strong>1</strong> added, <strong>0</strong> changed" in preview.text
    assert 'value="Publish release 2"' in preview.text
    published = manager.post(
        releases, {"number": "2", "notes": "Ada's evidence", "checked": "on"}, follow=True
    )
    assert "Release 2 published: 2 contributions, 1 new" in published.text

    # The contribution's page shows the redaction and how to cite it.
    page_path = contribution_link(client, call, "Ada Lovelace, Analytical Engines")
    page = client.get(page_path)
    assert page.status_code == 200
    assert f"We ran the workshop with {REDACTED}, our archivist." in page.text
    assert THIRD_PARTY not in page.text
    assert "In <a href=" in page.text and "release 2</a>" in page.text
    citation = re.search(r'<p class="citation">(.*?)</p>', page.text, re.S)
    assert citation is not None
    assert "Ada Lovelace" in citation.group(1) and "What Works: Done When" in citation.group(1)
    assert f"{site}{page_path}" in citation.group(1)
    for style in ("bib", "json"):
        cite = client.get(reverse("citation", args=[call.slug, page_path.split("/")[-2], style]))
        assert cite.status_code == 200
        text = body(cite).decode()
        assert f"{site}{page_path}" in text and "Lovelace" in text
        assert THIRD_PARTY not in text

    # Release 2's open data: found from the open data page, valid, its version and its date.
    open_data = client.get(reverse("open_data", args=[call.slug])).text
    release_2 = reverse("release_page", args=[call.slug, 2])
    assert f'href="{release_2}"' in open_data
    release_page = client.get(release_2).text
    assert '<dd class="col-sm-8">2.0.0</dd>' in release_page
    files = {}
    for name in FILES:
        url = reverse("release_file", args=[call.slug, 2, name])
        assert f'href="{url}"' in release_page
        first, again = client.get(url), client.get(url)
        files[name] = body(first)
        assert body(again) == files[name]  # the same bytes
        assert first["ETag"] == again["ETag"]
        unchanged = client.get(url, headers={"if-none-match": first["ETag"]})
        assert unchanged.status_code == 304
        (tmp_path / name).write_bytes(files[name])
        assert THIRD_PARTY.encode() not in files[name]
    with system.use_context(trusted=True):
        report = Package(str(tmp_path / "datapackage.json")).validate()
    assert report.valid, report.flatten(["type", "note"])
    package = json.loads(files["datapackage.json"])
    assert package["version"] == "2.0.0"
    assert package["id"] == f"{site}{release_2}"
    created = datetime.fromisoformat(package["created"])
    assert f"{created.day} {created:%B %Y}" in release_page  # the date the page says
    rows = {row["credit"]: row for row in json.loads(files["contributions.json"])}
    ada_row = rows["Ada Lovelace, Analytical Engines"]
    assert ada_row["question_1"] == f"We ran the workshop with {REDACTED}, our archivist."
    assert ada_row["first_release"] == 2
    assert ada_row["first_release_date"] == created.date().isoformat()
    assert ada_row["url"] == f"{site}{page_path}"
    assert rows["First Person"]["first_release"] == 1

    # The contributor is told, with the page's link.
    run_worker()
    (email,) = mail.outbox
    assert email.to == ["ada@example.org"]
    assert f"{site}{page_path}" in email.body
    assert "is published in release 2" in email.body
    assert THIRD_PARTY not in email.body

"""Up to five co-contributors: entered on About you, credited in the credit line, shown on the
check page, the receipt, the admin and the export."""

import csv
import io
import re

import pytest
from django.core import mail
from django.db import connection

from submissions.exports.writer import SubmissionCsv
from submissions.models import Submission

from ..contributor import ABOUT, url, walk_to
from ..factories import make_call, make_reviewer, make_submission
from ..worker import run_worker

pytestmark = pytest.mark.django_db

AHMED = {"name": "Ahmed Khan", "organisation": "UWE Bristol", "orcid": "0000-0002-1825-0097"}
LI = {"name": "Li Wei", "organisation": "", "orcid": ""}


def preview(page: str, choice: str) -> str:
    """The credit line the page previews for this choice."""
    return re.search(rf'<strong data-credit-preview="{choice}"[^>]*>([^<]*)</strong>', page)[1]


def about_with(**co) -> dict[str, str]:
    return {**ABOUT, **{f"co_{key}": value for key, value in co.items()}}


def test_co_contributors_are_saved_in_order_and_credited_after_the_contributor(client, seeded_call):
    walk_to(client, seeded_call, "about")
    data = about_with(
        **{"1_name": "Ahmed Khan", "1_organisation": "UWE Bristol"},
        **{"1_orcid": "https://orcid.org/0000-0002-1825-0097", "3_name": "Li Wei"},
    )
    assert client.post(url(seeded_call, "about"), data).status_code == 302
    submission = Submission.objects.get()
    assert submission.co_contributors == [AHMED, LI]
    assert submission.credit_line() == (
        "Jane Smith, University of Bristol; Ahmed Khan, UWE Bristol; Li Wei"
    )


def test_the_about_page_previews_the_credit_line_with_co_contributors(client, seeded_call):
    walk_to(client, seeded_call, "about")
    data = about_with(**{"1_name": "Ahmed Khan", "1_organisation": "UWE Bristol"})
    client.post(url(seeded_call, "about"), {**data, "email": "not an email"})
    page = client.get(url(seeded_call, "about")).content.decode()
    # Nothing was saved, so the preview shows only the contributor.
    assert preview(page, "name_and_organisation") == "Your Name, Your Organisation"
    response = client.post(url(seeded_call, "about"), {**data, "email": "not an email"})
    page = response.content.decode()
    assert preview(page, "name_and_organisation") == (
        "Jane Smith, University of Bristol; Ahmed Khan, UWE Bristol"
    )
    assert preview(page, "organisation_only") == "University of Bristol; Ahmed Khan, UWE Bristol"
    assert 'id="co-contributors" open' in page  # the section stays open with what was typed


def test_a_co_contributor_needs_a_name_and_a_valid_orcid(client, seeded_call):
    walk_to(client, seeded_call, "about")
    data = about_with(**{"2_organisation": "UWE Bristol", "4_name": "Li", "4_orcid": "1234"})
    response = client.post(url(seeded_call, "about"), data)
    page = response.content.decode()
    assert page.count("Enter the full name of co-contributor 2, or clear their details") == 2
    assert page.count("Enter the ORCID iD of co-contributor 4 in the format") == 2
    assert 'href="#id_co_2_name"' in page and 'href="#id_co_4_orcid"' in page
    assert Submission.objects.get().co_contributors == []


def test_the_check_page_the_receipt_and_the_confirmation_show_co_contributors(
    client, seeded_call, django_capture_on_commit_callbacks
):
    walk_to(client, seeded_call, "check")
    data = about_with(
        **{"1_name": "Ahmed Khan", "1_organisation": "UWE Bristol"},
        **{"1_orcid": "0000-0002-1825-0097", "2_name": "Li Wei"},
    )
    response = client.post(url(seeded_call, "about"), {**data, "return_to": "check"})
    assert response.url == url(seeded_call, "check")
    check = client.get(url(seeded_call, "check")).content.decode()
    assert "Ahmed Khan (UWE Bristol, ORCID iD 0000-0002-1825-0097)</div>" in check
    assert "Li Wei</div>" in check
    assert "?return_to=check#co-contributors" in check
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(seeded_call, "check"))
    run_worker()
    receipt = next(m.body for m in mail.outbox if m.to == [ABOUT["email"]])
    assert "\n> Ahmed Khan (UWE Bristol, ORCID iD 0000-0002-1825-0097)\n" in receipt
    assert "\n> Jane Smith, University of Bristol; Ahmed Khan, UWE Bristol; Li Wei\n" in receipt
    confirmation = client.get(url(seeded_call, "confirmation")).content.decode()
    assert "Jane Smith, University of Bristol; Ahmed Khan, UWE Bristol; Li Wei" in confirmation


def test_reviewers_see_co_contributors_in_the_admin(client):
    call = make_call()
    submission = make_submission(call, co_contributors=[AHMED, LI])
    client.force_login(make_reviewer(every_call=True))
    page = client.get(f"/admin/submissions/submission/{submission.pk}/change/").content.decode()
    assert "Ahmed Khan (UWE Bristol, ORCID iD 0000-0002-1825-0097)" in page
    assert "Li Wei" in page


@pytest.mark.parametrize("use_copy", [None, False], ids=["default path", "python path"])
def test_the_export_has_a_co_contributors_column_and_credits_them(db, use_copy):
    call = make_call()
    make_submission(call, name="Ruth", organisation="Cardiff", co_contributors=[AHMED, LI])
    make_submission(
        call,
        organisation="Cardiff",
        credit_preference=Submission.Credit.ORGANISATION_ONLY,
        co_contributors=[LI],
    )
    make_submission(call, credit_preference=Submission.Credit.NONE, co_contributors=[LI])
    make_submission(call, name="=Eve", organisation="", co_contributors=[])
    data = b"".join(SubmissionCsv(Submission.objects.all(), use_copy=use_copy))
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [(row["Credit line"], row["Co-contributors"]) for row in rows] == [
        (
            "Ruth, Cardiff; Ahmed Khan, UWE Bristol; Li Wei",
            "Ahmed Khan (UWE Bristol, ORCID iD 0000-0002-1825-0097)\nLi Wei",
        ),
        ("Cardiff; Li Wei", "Li Wei"),
        ("", "Li Wei"),
        ("'=Eve", ""),
    ]
    if connection.vendor == "postgresql" and use_copy is None:
        python = b"".join(SubmissionCsv(Submission.objects.all(), use_copy=False))
        assert data == python

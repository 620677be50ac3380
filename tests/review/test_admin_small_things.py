"""Small things in the admin: export filters in words, file sizes in MB, the service's name."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from submissions.models import ExportRecord, Theme
from submissions.review.admin.calls import CallAdminForm
from submissions.review.admin.export import describe_filters
from tests.factories import make_call_manager, make_reviewer

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")


def test_export_records_show_their_filters_in_words_and_uk_24_hour_times(client, seeded_call):
    podcasts = Theme.objects.create(name="Podcasts")
    ExportRecord.objects.create(
        username="bob",
        source=ExportRecord.Source.ADMIN_ALL_MATCHING,
        filters={
            "review_status__exact": "shortlisted",
            "call__id__exact": str(seeded_call.pk),
            "is_late__exact": "1",
            "theme": str(podcasts.pk),
            "q": "soc med",
        },
        # 14:05 UTC in June is 15:05 UK time.
        started_at=datetime(2018, 6, 1, 14, 5, tzinfo=UTC),
    )
    client.force_login(make_call_manager())

    page = client.get(reverse("admin:submissions_exportrecord_changelist")).text

    assert (
        "Call: What Works: Social Media; Review status: Shortlisted; "
        "Late: Yes; Theme: Podcasts; Search: soc med"
    ) in page
    assert "1 Jun 2018, 15:05" in page
    assert "review_status__exact" not in page
    assert "p.m." not in page


def test_filters_in_words_cover_the_command_line_and_empty_exports():
    assert describe_filters({"status": "included", "since": "2018-03-01"}) == (
        "Review status: Included in toolkit; Submitted since: 2018-03-01"
    )
    assert describe_filters({}) == "None (everything)"
    assert describe_filters({"selected": 3}) == "Selected: 3"


def call_data(call, **changes) -> dict:
    data = model_to_dict(call)
    data.update(changes)
    return data


def test_a_calls_maximum_file_size_is_entered_in_mb_and_kept_in_bytes(seeded_call):
    form = CallAdminForm(instance=seeded_call)
    assert form["max_file_size_mb"].initial == Decimal("10.0")

    form = CallAdminForm(call_data(seeded_call, max_file_size_mb="2.5"), instance=seeded_call)
    assert form.is_valid(), form.errors
    form.save()

    seeded_call.refresh_from_db()
    assert seeded_call.max_file_size == 2_621_440


def test_a_file_size_the_server_would_refuse_gets_a_message_at_the_field(seeded_call):
    form = CallAdminForm(
        call_data(seeded_call, max_files=5, max_file_size_mb="20"), instance=seeded_call
    )

    assert not form.is_valid()
    assert form.errors["max_file_size_mb"] == [
        "5 files of 20 MB would exceed the server's limit of 59 MB for one upload. "
        "Allow fewer or smaller files."
    ]


def test_the_call_page_asks_for_mb(client, seeded_call):
    client.force_login(make_call_manager())

    page = client.get(reverse("admin:submissions_call_change", args=[seeded_call.pk])).text

    assert "Maximum file size (MB)" in page
    assert 'name="max_file_size_mb"' in page and 'value="10.0"' in page
    assert 'name="max_file_size"' not in page


def test_the_admin_names_the_service_and_organisation(client, settings):
    client.force_login(make_reviewer(every_call=True))

    page = client.get(reverse("admin:index")).text

    assert "Django administration" not in page
    assert "Call for evidence · NCCPE" in page
    assert "<title>Review and manage calls | Call for evidence · NCCPE</title>" in page


def test_make_run_sets_site_url_to_the_port_it_serves_on():
    import shutil
    import subprocess
    from pathlib import Path

    make = shutil.which("make")
    if make is None:
        pytest.skip("no make")
    root = Path(__file__).resolve().parents[2]
    plan = subprocess.run(  # noqa: S603 (make, found on PATH, with fixed arguments)
        [make, "-n", "run", "PORT=8123"], cwd=root, capture_output=True, text=True, check=True
    ).stdout

    assert "SITE_URL=http://127.0.0.1:8123 " in plan
    assert "runserver 127.0.0.1:8123" in plan


@pytest.mark.parametrize("records", [2, 20])
def test_the_export_records_list_names_each_call_once_per_page(
    client, seeded_call, records, django_assert_num_queries
):
    for _ in range(records):
        ExportRecord.objects.create(
            username="bob", source="admin_selected", filters={"call__id__exact": seeded_call.pk}
        )
    client.force_login(make_call_manager())

    # The same 10 for 2 records or 20: the call is named once.
    with django_assert_num_queries(10):
        page = client.get(reverse("admin:submissions_exportrecord_changelist")).text

    assert page.count("Call: What Works: Social Media") == records

"""The overview's counts follow every write that changes them: the journey's submit, the admin's
saves and bulk actions, a withdrawal request, deletion, bulk loads; and, on PostgreSQL, the tally
they are read from matches the submissions exactly, under concurrent writes too."""

import io
import random
import re
from collections import Counter
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.test import Client
from django.urls import reverse

from submissions.models import Call, Submission, SubmissionTally, kept_by_triggers
from submissions.review.overview import review_overview
from tests.contributor import walk_to
from tests.factories import make_call, make_call_manager, make_reviewer, make_submission
from tests.races import at_once

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
INDEX_URL = reverse("admin:index")
LIST_URL = reverse("admin:submissions_submission_changelist")
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the tally is kept by PostgreSQL's triggers"
)


def seen_on_the_overview(client: Client, title: str) -> dict[str, int]:
    """The overview's numbers for one call, as a reviewer reads them on the admin home."""
    html = client.get(INDEX_URL).text.split(f"<h3>{title}</h3>")[1].split("</section>")[0]
    total = int(re.search(r"<caption>(\d+) submitted", html).group(1))
    headers = re.findall(r'<th scope="col">([^<]+)</th>', html)
    cells = [int(n) for n in re.findall(r"<td[^>]*><a [^>]*>(\d+)</a></td>", html)]
    return {"submitted": total, **dict(zip(headers, cells, strict=True))}


def counted_live() -> Counter:
    """What the tally should hold: the submitted submissions, grouped by its keys."""
    rows = (
        Submission.objects.filter(state=Submission.State.SUBMITTED)
        .order_by()
        .annotate(day=TruncDate("submitted_at", tzinfo=LONDON))
        .values_list("call_id", "day", "review_status", "is_late")
        .annotate(withdrawn=Count("pk", filter=Q(withdrawal_requested_at__isnull=False)))
        .annotate(n=Count("pk"))
    )
    counts: Counter = Counter()
    for call_id, day, status, late, withdrawn, n in rows:
        counts[(call_id, day, status, late, True)] += withdrawn
        counts[(call_id, day, status, late, False)] += n - withdrawn
    return +counts  # without the zeros


def tallied() -> Counter:
    counts: Counter = Counter()
    for row in SubmissionTally.objects.values_list(
        "call_id", "day", "review_status", "is_late", "withdrawal_requested", "n"
    ):
        counts[row[:5]] += row[5]
    return +counts


def assert_the_tally_is_exact() -> None:
    if kept_by_triggers():
        assert tallied() == counted_live()
        assert tallied(), "nothing tallied: the test wrote nothing it counts"


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(make_call_manager())
    return client


def test_a_submission_sent_through_the_journey_is_counted_as_new(staff):
    call = make_call(title="Open call")
    make_submission(call, review_status=Submission.ReviewStatus.SHORTLISTED)
    contributor = Client()
    walk_to(contributor, call, "check")
    assert seen_on_the_overview(staff, "Open call")["submitted"] == 1  # a draft is not counted

    walk_to(contributor, call, "confirmation")

    seen = seen_on_the_overview(staff, "Open call")
    assert (seen["submitted"], seen["New"], seen["Shortlisted"]) == (2, 1, 1)
    assert_the_tally_is_exact()


def test_the_admins_bulk_actions_and_its_change_page_move_the_counts(client):
    call = make_call(title="Open call")
    chosen = [make_submission(call) for _ in range(3)]
    make_submission(call, is_late=True)
    client.force_login(make_reviewer(every_call=True))

    client.post(
        LIST_URL,
        {"action": "set_status_shortlisted", "_selected_action": [s.pk for s in chosen[:2]]},
    )
    client.post(
        reverse("admin:submissions_submission_change", args=[chosen[2].pk]),
        {"review_status": "included", "reviewer_notes": "Yes.", "assigned_reviewer": ""},
    )
    client.post(LIST_URL, {"action": "assign_to_me", "_selected_action": [chosen[0].pk]})

    seen = seen_on_the_overview(client, "Open call")
    assert seen == {
        "submitted": 4,
        "New": 1,
        "In review": 0,
        "Shortlisted": 2,
        "Included in toolkit": 1,
        "Not included": 0,
        "Late": 1,
        "Withdrawal requested": 0,
    }
    assert_the_tally_is_exact()


def test_deleting_and_erasing_in_the_admin_take_submissions_off_the_counts(staff):
    call = make_call(title="Open call")
    erased, deleted, kept = (make_submission(call) for _ in range(3))
    make_submission(call, is_late=True, review_status=Submission.ReviewStatus.IN_REVIEW)

    staff.post(reverse("admin:submissions_submission_delete", args=[erased.pk]), {"post": "yes"})
    staff.post(
        LIST_URL,
        {"action": "delete_selected", "_selected_action": [deleted.pk], "post": "yes"},
    )

    assert not Submission.objects.filter(pk__in=[erased.pk, deleted.pk]).exists()
    seen = seen_on_the_overview(staff, "Open call")
    assert (seen["submitted"], seen["New"], seen["In review"], seen["Late"]) == (2, 1, 1, 1)
    assert Submission.objects.get(pk=kept.pk)
    assert_the_tally_is_exact()


def test_a_withdrawal_request_is_counted_apart():
    call = make_call(title="Open call")
    asking, _other = make_submission(call), make_submission(call)

    assert asking.request_withdrawal()

    (overview,) = [o for o in review_overview() if o.call == call]
    assert (overview.total, overview.withdrawal_requested) == (2, 1)
    assert_the_tally_is_exact()


def test_bulk_loaded_submissions_are_counted(staff):
    call = make_call(title="Open call")

    call_command("seed_demo", submissions=60, call=call.slug, seed=3, stdout=io.StringIO())

    seen = seen_on_the_overview(staff, "Open call")
    assert seen["submitted"] == 60
    assert sum(n for label, n in seen.items() if label not in ("submitted", "Late")) == 60
    assert seen["Late"] == Submission.objects.filter(is_late=True).count()
    assert_the_tally_is_exact()


def test_a_moved_submission_is_counted_on_its_new_day_and_drafts_never(staff):
    day = datetime(2018, 3, 1, 12, tzinfo=LONDON)
    call = make_call(
        title="Open call",
        opens_at=day,
        closes_at=day + timedelta(days=4),
        late_policy=Call.LatePolicy.ACCEPT_LATE,
    )
    moved = make_submission(call, submitted_at=day)
    make_submission(call, state=Submission.State.DRAFT)

    Submission.objects.filter(pk=moved.pk).update(submitted_at=day + timedelta(days=2))
    Submission.objects.filter(state=Submission.State.DRAFT).update(name="Still a draft")

    (overview,) = [o for o in review_overview() if o.call == call]
    assert {bar.start.day: bar.count for bar in overview.chart.bars if bar.count} == {3: 1}
    assert_the_tally_is_exact()


@on_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_emptying_the_table_empties_the_tally():
    make_submission(make_call())

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE submissions_submission CASCADE")

    assert not tallied()


@on_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_submits_and_status_changes_are_all_counted():
    """Eight contributors submit at once while two reviewers move submissions between statuses
    in bulk, in opposite orders: nothing is lost, nothing counted twice, no deadlock."""
    call = make_call()
    start = datetime(2018, 3, 1, 12, tzinfo=LONDON)
    for i in range(40):
        make_submission(call, submitted_at=start + timedelta(days=i % 5))
    drafts = [make_submission(call, state=Submission.State.DRAFT) for _ in range(8)]

    def move_statuses(seed: int) -> None:
        rng = random.Random(seed)
        statuses = list(Submission.ReviewStatus)
        for _ in range(15):
            ids = list(Submission.objects.filter(state="submitted").values_list("pk", flat=True))
            chosen = rng.sample(ids, 10)
            Submission.objects.filter(pk__in=chosen).update(review_status=rng.choice(statuses))

    movers = [partial(move_statuses, 1), partial(move_statuses, 2)]
    at_once(*[draft.submit for draft in drafts], *movers)  # raises what any of them raised

    assert Submission.objects.filter(state="submitted").count() == 48
    assert sum(tallied().values()) == 48
    assert_the_tally_is_exact()


@on_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_counts_the_submissions_already_there():
    call = make_call()
    for status in ("new", "new", "included"):
        make_submission(call, review_status=status)
    executor = MigrationExecutor(connection)
    # Found by name, so that renumbering the migration leaves this test as it is.
    (name,) = [n for app, n in executor.loader.disk_migrations if n.endswith("_submission_tally")]
    tally = [("submissions", name)]
    before = executor.loader.get_migration("submissions", name).dependencies

    try:
        executor.migrate(before)
        executor.loader.build_graph()
        executor.migrate(tally)
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    assert_the_tally_is_exact()
    assert sum(tallied().values()) == 3

"""The deadline is judged in UK time on every step and at the final submit."""

from datetime import UTC, datetime

import pytest
import time_machine

from submissions.common.wording import LONDON
from submissions.models import Call, Submission
from submissions.templatetags.text_filters import uk_time

from ..contributor import url, walk_to
from ..factories import make_call

pytestmark = pytest.mark.django_db

# Winter (GMT, UTC+0) and summer (BST, UTC+1) deadlines, each at the end of the day.
WINTER = datetime(2018, 3, 6, 23, 59, tzinfo=LONDON)
SUMMER = datetime(2018, 7, 10, 23, 59, tzinfo=LONDON)
LAST_SECOND = {
    WINTER: datetime(2018, 3, 6, 23, 59, 59, tzinfo=LONDON),
    SUMMER: datetime(2018, 7, 10, 23, 59, 59, tzinfo=LONDON),
}
FIRST_LATE = {
    WINTER: datetime(2018, 3, 7, 0, 0, 0, tzinfo=LONDON),
    SUMMER: datetime(2018, 7, 11, 0, 0, 0, tzinfo=LONDON),
}


def submit_at(client, call: Call, moment: datetime):
    with time_machine.travel(moment, tick=False):
        walk_to(client, call, "check")
        return client.post(url(call, "check"))


@pytest.mark.parametrize("deadline", [WINTER, SUMMER], ids=["winter", "summer"])
@pytest.mark.parametrize("policy", [Call.LatePolicy.REFUSE, Call.LatePolicy.ACCEPT_LATE])
def test_the_last_second_of_the_deadline_minute_is_on_time(client, deadline, policy):
    call = make_call(closes_at=deadline, late_policy=policy)
    response = submit_at(client, call, LAST_SECOND[deadline])
    assert response.url == url(call, "confirmation")
    submission = Submission.objects.get()
    assert submission.is_submitted and not submission.is_late


@pytest.mark.parametrize("deadline", [WINTER, SUMMER], ids=["winter", "summer"])
def test_midnight_after_the_deadline_is_refused_under_the_refuse_policy(client, deadline):
    call = make_call(closes_at=deadline, late_policy=Call.LatePolicy.REFUSE)
    with time_machine.travel(FIRST_LATE[deadline], tick=False):
        response = client.get(url(call, "consent"), follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == url(call, "closed")
    assert f"This call closed on {uk_time(deadline)}" in page
    assert "contact@example.org" in page
    assert Submission.objects.count() == 0


@pytest.mark.parametrize("deadline", [WINTER, SUMMER], ids=["winter", "summer"])
def test_midnight_after_the_deadline_is_flagged_late_under_the_accept_policy(client, deadline):
    call = make_call(closes_at=deadline, late_policy=Call.LatePolicy.ACCEPT_LATE)
    with time_machine.travel(FIRST_LATE[deadline], tick=False):
        walk_to(client, call, "check")
        page = client.get(url(call, "check")).content.decode()
        assert f"This call closed on {uk_time(deadline)}." in page
        assert "it will be marked as late" in page
        client.post(url(call, "check"))
    assert Submission.objects.get().is_late


def test_summer_deadline_is_judged_in_uk_time_not_utc(client):
    call = make_call(closes_at=SUMMER, late_policy=Call.LatePolicy.ACCEPT_LATE)
    # 23:30 UTC on 10 July is 00:30 BST on 11 July: late, though still 10 July in UTC.
    submit_at(client, call, datetime(2018, 7, 10, 23, 30, tzinfo=UTC))
    assert Submission.objects.get().is_late


def test_deadlines_are_shown_in_words_and_uk_time():
    assert uk_time(WINTER) == "Tuesday 6 March 2018, 11:59pm UK time"
    assert uk_time(SUMMER) == "Tuesday 10 July 2018, 11:59pm UK time"
    assert uk_time(datetime(2018, 7, 10, 11, 5, tzinfo=UTC)) == (
        "Tuesday 10 July 2018, 12:05pm UK time"
    )


def test_the_deadline_is_judged_again_at_the_final_submit(client):
    call = make_call(closes_at=WINTER, late_policy=Call.LatePolicy.REFUSE)
    with time_machine.travel(datetime(2018, 3, 6, 23, 50, tzinfo=LONDON), tick=False):
        walk_to(client, call, "check")
        assert client.get(url(call, "check")).status_code == 200
    with time_machine.travel(FIRST_LATE[WINTER], tick=False):
        response = client.post(url(call, "check"))
    assert response.url == url(call, "closed")
    draft = Submission.objects.get()
    assert draft.state == Submission.State.DRAFT  # the draft is kept, not submitted
    assert draft.name == "Jane Smith"


def test_a_draft_started_on_time_and_sent_late_is_flagged_late(client):
    call = make_call(closes_at=WINTER, late_policy=Call.LatePolicy.ACCEPT_LATE)
    with time_machine.travel(datetime(2018, 3, 6, 23, 50, tzinfo=LONDON), tick=False):
        walk_to(client, call, "check")
    with time_machine.travel(FIRST_LATE[WINTER], tick=False):
        client.post(url(call, "check"))
    assert Submission.objects.get().is_late


def test_the_start_page_of_a_closed_call_says_so_without_a_start_button(client):
    call = make_call(closes_at=WINTER, late_policy=Call.LatePolicy.REFUSE)
    with time_machine.travel(FIRST_LATE[WINTER], tick=False):
        page = client.get(url(call, "start")).content.decode()
    assert "Start now" not in page
    assert "no longer takes submissions" in page


def test_a_call_not_yet_open_is_not_found(client):
    call = make_call(opens_at=datetime(2030, 1, 1, tzinfo=LONDON))
    assert client.get(url(call, "start")).status_code == 404
    assert client.get(url(call, "consent")).status_code == 404


def test_an_unpublished_call_is_not_found(client):
    call = make_call(published=False)
    assert client.get(url(call, "start")).status_code == 404


@pytest.mark.parametrize("deadline", [WINTER, SUMMER], ids=["winter", "summer"])
@pytest.mark.parametrize("late", [False, True], ids=["on time", "late"])
def test_the_deadline_rule_and_its_sql_form_agree_at_the_boundary(deadline, late):
    """Call.is_on_time() in Python and CallQuerySet.open_at() in SQL are one rule: a call
    that refuses late evidence is open up to the last microsecond of its deadline minute."""
    call = make_call(closes_at=deadline, late_policy=Call.LatePolicy.REFUSE)
    moment = FIRST_LATE[deadline] if late else LAST_SECOND[deadline].replace(microsecond=999999)
    open_in_sql = Call.objects.open_at(moment).filter(pk=call.pk).exists()
    assert call.is_on_time(moment) is (not late)
    assert open_in_sql is (not late)


def test_a_deadline_saved_with_seconds_is_the_whole_minute():
    call = make_call(closes_at=datetime(2018, 3, 6, 23, 59, 42, 123456, tzinfo=LONDON))
    call.refresh_from_db()
    assert call.closes_at == WINTER
    assert call.is_on_time(LAST_SECOND[WINTER])
    assert not call.is_on_time(FIRST_LATE[WINTER])

"""The number of queries of each step is pinned, so it cannot creep up unnoticed."""

import pytest

from ..contributor import ABOUT, evidence_data, url

pytestmark = pytest.mark.django_db

# (method, step, data, most queries): each step loads the session, the call and the draft,
# then saves once; the submit adds the row lock and its savepoints, and queues the receipt and
# the staff notification (an email row and its task each).
STEPS = [
    ("get", "start", None, 2),
    ("get", "consent", None, 1),
    ("post", "consent", {"consent": "yes"}, 6),
    ("get", "about", None, 3),
    ("post", "about", ABOUT, 4),
    ("get", "evidence", None, 4),
    ("post", "evidence", "evidence", 5),
    ("get", "files", None, 4),
    ("post", "files", {"action": "continue"}, 4),
    ("get", "check", None, 5),  # and the list of files
    ("post", "check", {}, 13),
    ("get", "confirmation", None, 3),
]


def test_each_step_makes_a_fixed_small_number_of_queries(
    client, seeded_call, django_assert_max_num_queries
):
    seeded_call.notification_emails = "reviewers@example.org"  # the submit queues it too
    seeded_call.save()
    for method, step, data, most in STEPS:
        if data == "evidence":
            data = evidence_data(seeded_call)
        with django_assert_max_num_queries(most):
            response = getattr(client, method)(url(seeded_call, step), data or {})
        assert response.status_code in (200, 302), (step, response.status_code)


# Save and come back later on each step that offers it, valid or with a mistake at a field.
SAVE_FOR_LATER = [
    ("about", {**ABOUT, "save_for_later": "1"}, 4),
    ("about", {"email": "not an email", "save_for_later": "1"}, 4),
    ("evidence", "evidence", 5),
    ("files", {"action": "continue", "save_for_later": "1"}, 4),
]


def test_saving_for_later_makes_no_more_queries_than_continue(
    client, seeded_call, django_assert_max_num_queries
):
    client.post(url(seeded_call, "consent"), {"consent": "yes"})
    for step, data, most in SAVE_FOR_LATER:
        if data == "evidence":
            data = {**evidence_data(seeded_call), "save_for_later": "1"}
        with django_assert_max_num_queries(most):
            response = client.post(url(seeded_call, step), data)
        if "not an email" in data.values():
            assert response.status_code == 200  # the mistake at its field, the rest saved
        else:
            assert response["Location"] == f"/{seeded_call.slug}/save/", step

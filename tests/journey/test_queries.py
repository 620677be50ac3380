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

"""A number in an address or a form, typed as something that only looks like one.

"²" (and "³", "①") are digits to `str.isdigit()` but a ValueError to `int()`: each place that
reads an id or a count from the request must answer as for any other wrong value (not found, or
the value ignored), never with a server error. The test client raises the view's exception, so
each of these failed with ValueError before `whole_number`.
"""

import pytest
from django.urls import reverse

from submissions.common.text import whole_number
from submissions.models import Submission
from tests.contributor import url, walk_to
from tests.factories import make_call, make_submission, make_superuser

NOT_NUMBERS = ["²", "①", "1²"]


@pytest.mark.parametrize("typed", ["0", "12", "007"])
def test_ascii_digits_are_a_number(typed):
    assert whole_number(typed) == int(typed)


@pytest.mark.parametrize("typed", [*NOT_NUMBERS, "", "-1", "1.0", " 1", "٣"])
def test_anything_else_is_not(typed):
    assert whole_number(typed) is None


@pytest.mark.django_db
@pytest.mark.parametrize("typed", NOT_NUMBERS)
def test_about_you_asked_for_a_strange_number_of_co_contributor_rows_is_still_the_page(
    client, seeded_call, typed
):
    walk_to(client, seeded_call, "about")
    response = client.get(url(seeded_call, "about"), {"co": typed})
    assert response.status_code == 200
    assert "About you" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("typed", NOT_NUMBERS)
def test_removing_a_file_by_a_strange_id_removes_nothing_and_goes_back(client, seeded_call, typed):
    walk_to(client, seeded_call, "files")
    response = client.post(f"/{seeded_call.slug}/files/remove/", {"remove": typed})
    assert response.status_code == 302
    assert response["Location"].startswith(url(seeded_call, "files"))


@pytest.mark.django_db
@pytest.mark.parametrize("typed", NOT_NUMBERS)
@pytest.mark.parametrize("parameter", ["theme", "reviewer", "call__id__exact"])
def test_the_list_filtered_by_a_strange_id_is_still_a_page(client, typed, parameter):
    make_submission(make_call(), state=Submission.State.SUBMITTED)
    client.force_login(make_superuser())
    response = client.get(reverse("admin:submissions_submission_changelist"), {parameter: typed})
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("typed", NOT_NUMBERS)
@pytest.mark.parametrize(
    "name",
    [
        "admin:submissions_call_acknowledgements",
        "admin:submissions_call_releases",
        "admin:submissions_call_outcome",
        "admin:submissions_call_pack",
        "admin:submissions_submission_redactions",
    ],
)
def test_a_staff_page_for_a_strange_id_is_not_found(client, typed, name):
    client.force_login(make_superuser())
    assert client.get(reverse(name, args=[typed])).status_code == 404

"""A database outage shows a friendly page and keeps the draft."""

import pytest
from django.db import connection

from submissions.models import Submission

from ..contributor import ABOUT, url, walk_to
from ..factories import make_call


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a database server to lose")
def test_a_database_outage_gives_a_friendly_page_and_keeps_the_draft(client):
    call = make_call()
    walk_to(client, call, "about")
    real_port = connection.settings_dict["PORT"]
    connection.close()
    # Point the connection at a closed port: the server is "down" for this request.
    connection.settings_dict["PORT"] = "9"
    try:
        response = client.post(url(call, "about"), {**ABOUT, "name": "Lost?"})
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port
    assert response.status_code == 503
    page = response.content.decode()
    assert "Sorry, the service is unavailable" in page
    assert "Anything you had already saved has been kept" in page
    draft = Submission.objects.get()
    assert draft.consent_given_at is not None
    # Once the database is back, the contributor carries on where they left off.
    assert client.post(url(call, "about"), ABOUT).url == url(call, "evidence")

from datetime import datetime
from zoneinfo import ZoneInfo

from submissions.models import Call


def test_the_seeded_call_closes_at_the_end_of_6_march_2018_uk_time(seeded_call):
    assert seeded_call.closes_at == datetime(2018, 3, 6, 23, 59, tzinfo=ZoneInfo("Europe/London"))
    assert seeded_call.late_policy == Call.LatePolicy.ACCEPT_LATE


def test_the_seeded_call_asks_the_four_questions_of_the_original(seeded_call):
    texts = list(seeded_call.questions.values_list("text", flat=True))
    assert texts == [
        "What excellent practice have we missed?",
        "Have you researched the use of social media and have ideas of how to make this work well?",
        "Do you have tools to support people wanting to enhance their work in this area?",
        "Have you come up with ways of addressing the challenges to engaging in this way?",
    ]


def test_the_seeded_call_carries_the_licence_and_the_contact(seeded_call):
    assert seeded_call.licence_id == "CC-BY-NC-4.0"
    assert "non-commercial" in seeded_call.licence_summary
    assert seeded_call.contact_email == "stephanie.todd@uwe.ac.uk"
    assert "credit contributors" in seeded_call.credit_promise

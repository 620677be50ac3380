"""Helpers that walk the contributor's journey through the test client."""

from django.test import Client

from submissions.models import Call

ABOUT = {
    "name": "Jane Smith",
    "email": "jane.smith@example.ac.uk",
    "role": "Senior Lecturer",
    "organisation": "University of Bristol",
    "orcid": "0000-0002-1825-0097",
    "website": "https://www.example.ac.uk/people/jane-smith",
    "credit_preference": "name_and_organisation",
}


def url(call: Call, step: str) -> str:
    paths = {
        "start": "",
        "consent": "licence/",
        "declined": "licence/declined/",
        "about": "about-you/",
        "evidence": "evidence/",
        "files": "files/",
        "check": "check-your-answers/",
        "confirmation": "submitted/",
        "closed": "closed/",
    }
    return f"/{call.slug}/{paths[step]}"


def evidence_data(call: Call, **overrides) -> dict[str, str]:
    questions = list(call.questions.all())
    data = {f"answer_{q.pk}": "" for q in questions}
    data[f"answer_{questions[0].pk}"] = "We ran a Twitter chat with patients.\r\nIt worked well."
    data["links"] = "https://example.org/report\nhttp://example.org/slides"
    data.update(overrides)
    return data


def walk_to(client: Client, call: Call, step: str) -> None:
    """Complete every step before `step`."""
    order = ["consent", "about", "evidence", "files", "check"]
    posts = {
        "consent": {"consent": "yes"},
        "about": ABOUT,
        "evidence": evidence_data(call),
        "files": {"action": "continue"},
    }
    for current in order[: order.index(step)]:
        response = client.post(url(call, current), posts[current])
        assert response.status_code == 302, response.content.decode()[:2000]

"""Locust users for the journey benchmark: a contributor's whole journey, and the bare /healthz.

Run through bench/bench_journey.py, which starts the server and reads the summary this file
writes. By hand, against a running server:

    .venv/bin/locust -f bench/locustfile.py JourneyUser --headless -u 8 -r 8 \
        -H http://127.0.0.1:8600 --journeys 200 --summary-file journey.json
"""

import json
import sys
import time
from pathlib import Path

import gevent
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.journey_steps import JourneyFailed, Step, found, walk


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    parser.add_argument("--journeys", type=int, default=0, help="Journeys to start (0: no limit)")
    parser.add_argument("--summary-file", default="", help="Write the figures here as JSON")


# One locust process runs every user on gevent, so plain counters are safe: no greenlet
# switch can happen between reading and updating them.
progress = {"started": 0, "completed": 0, "failed": 0, "in_flight": 0, "first": 0.0, "last": 0.0}


def _take_ticket(environment) -> bool:
    limit = environment.parsed_options.journeys
    if limit and progress["started"] >= limit:
        return False
    if not progress["started"]:
        progress["first"] = time.perf_counter()
    progress["started"] += 1
    progress["in_flight"] += 1
    return True


def _journey_ended(environment, completed: bool) -> None:
    progress["in_flight"] -= 1
    progress["completed" if completed else "failed"] += 1
    progress["last"] = time.perf_counter()
    limit = environment.parsed_options.journeys
    if limit and progress["started"] >= limit and not progress["in_flight"]:
        # Quit from outside the user's greenlet: quit() stops every user, this one included.
        gevent.spawn(environment.runner.quit)


class JourneyUser(FastHttpUser):
    """A new contributor each time: fresh cookies, every page in order, as a browser would."""

    wait_time = constant(0)

    @task
    def journey(self) -> None:
        if not _take_ticket(self.environment):
            raise StopUser()
        self.client.cookiejar.clear()
        completed = False
        try:
            walk(self._get, self._post)
            completed = True
        except JourneyFailed:
            pass  # already recorded as a failed request
        finally:
            # Also after a bug in this file: locust records the exception, the count stays right.
            _journey_ended(self.environment, completed)

    def _get(self, path: str, step: Step) -> str:
        with self.client.get(path, name=f"GET {step.name}", catch_response=True) as response:
            text = response.text or ""
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                raise JourneyFailed(step.name)
            if not found(step.expect, text):
                response.failure(f"page lacks {step.expect!r}")
                raise JourneyFailed(step.name)
            return text

    def _post(self, path: str, step: Step, data: dict) -> None:
        with self.client.post(
            path, name=f"POST {step.name}", data=data, allow_redirects=False, catch_response=True
        ) as response:
            location = response.headers.get("Location", "") if response.headers else ""
            if response.status_code != 302 or step.then not in location:
                response.failure(f"status {response.status_code}, location {location!r}")
                raise JourneyFailed(step.name)


class HealthzUser(FastHttpUser):
    """The bare Django view, no database: the ceiling for this server on this machine."""

    wait_time = constant(0)

    @task
    def healthz(self) -> None:
        self.client.get("/healthz", name="GET healthz")


@events.quitting.add_listener
def _write_summary(environment, **_kwargs) -> None:
    path = environment.parsed_options.summary_file
    if not path:
        return
    stats = environment.stats
    pages = [
        {
            "name": entry.name,
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.5),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99),
        }
        for entry in stats.entries.values()
    ]
    total = stats.total
    summary = {
        "journeys": {**progress, "seconds": max(progress["last"] - progress["first"], 0.0)},
        "pages": pages,
        "total": {
            "requests": total.num_requests,
            "failures": total.num_failures,
            "seconds": total.last_request_timestamp - total.start_time
            if total.last_request_timestamp
            else 0.0,
            "p50_ms": total.get_response_time_percentile(0.5),
            "p95_ms": total.get_response_time_percentile(0.95),
        },
        "errors": [
            {"name": error.name, "error": str(error.error), "occurrences": error.occurrences}
            for error in stats.errors.values()
        ],
        "exceptions": [
            {"error": row["msg"], "occurrences": row["count"]}
            for row in environment.runner.exceptions.values()
        ],
    }
    with open(path, "w") as out:
        json.dump(summary, out, indent=2)

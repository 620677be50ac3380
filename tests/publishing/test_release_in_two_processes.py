"""A big release is made on two cores (releases.SegmentEncoder, read_ahead): other processes
make the segments' files while this one reads the next rows on a second connection. It must
publish exactly what one process publishes, and nothing at all when another one fails."""

import os
import time

import pytest
from django.db import connection

from submissions.models import (
    PublicContribution,
    Redaction,
    Release,
    ReleaseEntry,
    Submission,
    Theme,
    release_storage,
)
from submissions.publishing import opendata, releases
from tests.factories import make_call, make_submission
from tests.publishing.helpers import get_file, publish

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a second connection reads"),
]

INCLUDED = Submission.ReviewStatus.INCLUDED
Credit = Submission.Credit
PARENT = os.getpid()
ENCODE_SEGMENT = opendata.encode_segment


class Counted:
    """Wraps an executor class, counting the executors made."""

    def __init__(self, cls):
        self.cls = cls
        self.made = 0

    def __call__(self, *args, **kwargs):
        self.made += 1
        return self.cls(*args, **kwargs)


@pytest.fixture
def call():
    call = make_call(questions=2)
    q1, q2 = call.questions.all()
    art, young = Theme.objects.create(name="Art"), Theme.objects.create(name="Young people")
    texts = ["=1+2", "plain", "line one\n-minus after a break", " \t+spaced", 'say "hi", then go']
    names = ["Émile Zola", "张伟", "Ada Lovelace", "Siân Evans", "O'Brien"]
    for n in range(11):
        submission = make_submission(
            call,
            review_status=INCLUDED,
            name=names[n % 5],
            organisation=f"Org {n}",
            credit_preference=[Credit.NAME_AND_ORGANISATION, Credit.NONE][n % 4 == 3],
            answers={str(q1.pk): texts[n % 5], str(q2.pk): f"Answer {n};@home"},
            links=[f"https://example.org/{n}"] * (n % 3),
            co_contributors=[{"name": "Co Author", "organisation": "", "orcid": ""}] * (n % 2),
        )
        submission.themes.set([art, young][: n % 3])
        if n == 2:
            Redaction.objects.create(
                submission=submission,
                part=Redaction.answer_part(q1),
                text="minus",
                reason=Redaction.Reason.THIRD_PARTY,
                created_by_name="Bob Manager",
            )
    return call


def files(client, call, number: int) -> list[bytes]:
    return [
        get_file(client, call, name, number) for name in ("contributions.csv", "contributions.json")
    ]


def entries(release: Release) -> list[tuple]:
    return list(
        ReleaseEntry.objects.filter(release=release)
        .order_by("position")
        .values_list(
            "contribution_id", "position", "segment", "credit_line", "anonymous", "sort_key",
            "authors", "themes",
        )
    )  # fmt: skip


def test_a_release_made_on_two_cores_is_the_one_made_on_one(client, call, monkeypatch):
    monkeypatch.setattr(releases, "SEGMENT_ROWS", 2)
    monkeypatch.setattr(releases, "PARALLEL_AFTER", 10**6)
    one = publish(call)
    processes = Counted(releases.ProcessPoolExecutor)
    threads = Counted(releases.ThreadPoolExecutor)
    monkeypatch.setattr(releases, "ProcessPoolExecutor", processes)
    monkeypatch.setattr(releases, "ThreadPoolExecutor", threads)
    monkeypatch.setattr(releases, "PARALLEL_AFTER", 1)

    two = publish(call)

    assert (processes.made, threads.made) == (1, 1)  # the second release went both ways
    assert two.contribution_count == one.contribution_count == 11
    assert files(client, call, 2) == files(client, call, 1)  # every contribution first in 1
    assert b"\n'-[redacted: personal data] after a break" in files(client, call, 2)[0]
    assert [e[1:] for e in entries(two)] == [e[1:] for e in entries(one)]
    assert list(two.segments.values_list("index", "rows", "csv_sha256", "json_sha256")) == list(
        one.segments.values_list("index", "rows", "csv_sha256", "json_sha256")
    )
    assert (two.csv_etag, two.json_etag) == (one.csv_etag, one.json_etag)


MAKE_AND_STORE = releases.make_and_store


def even_segments_late(rows, columns, url_pattern, stem):
    """make_and_store(), slower for an even segment (its index begins the stem's name), and
    noting in FINISHED (a file: each process has its own memory) the order they were made in."""
    index = int(stem.rsplit("/", 1)[1].split("-")[0])
    if index % 2 == 0:
        time.sleep(0.5)
    made = MAKE_AND_STORE(rows, columns, url_pattern, stem)
    with open(os.environ["FINISHED"], "a") as finished:
        finished.write(f"{index}\n")
    return made


def test_segments_made_out_of_order_by_the_processes_are_published_in_order(
    client, call, monkeypatch, tmp_path
):
    """Two processes make the files (releases.WORKERS): a segment may be done before the one
    before it. The release is still the one made on one core, its segments in order."""
    monkeypatch.setattr(releases, "SEGMENT_ROWS", 2)
    monkeypatch.setattr(releases, "PARALLEL_AFTER", 10**6)
    one = publish(call)
    monkeypatch.setattr(releases, "PARALLEL_AFTER", 1)
    monkeypatch.setattr(releases, "make_and_store", even_segments_late)
    monkeypatch.setenv("FINISHED", str(tmp_path / "finished"))

    two = publish(call)

    finished = [int(n) for n in (tmp_path / "finished").read_text().split()]
    assert sorted(finished) == [1, 2, 3, 4, 5] and finished != sorted(finished)
    assert files(client, call, 2) == files(client, call, 1)
    assert [e[1:] for e in entries(two)] == [e[1:] for e in entries(one)]
    assert list(two.segments.order_by("index").values_list("index", "rows")) == [
        (n, 2 if n < 5 else 1) for n in range(6)
    ]


def failing_in_the_second_process(rows, columns, url_pattern):
    if os.getpid() != PARENT:
        raise RuntimeError("the second process failed")
    return ENCODE_SEGMENT(rows, columns, url_pattern)


def test_when_the_second_process_fails_nothing_is_published_or_left_stored(call, monkeypatch):
    monkeypatch.setattr(releases, "SEGMENT_ROWS", 2)
    monkeypatch.setattr(releases, "PARALLEL_AFTER", 2)
    stored = []
    save = releases.SegmentFiles.save

    def remember(self, index, rows, encoded):
        columns = save(self, index, rows, encoded)
        stored.extend(name for name in (columns["csv_name"], columns["json_name"]) if name)
        return columns

    monkeypatch.setattr(releases.SegmentFiles, "save", remember)
    monkeypatch.setattr(opendata, "encode_segment", failing_in_the_second_process)

    with pytest.raises(RuntimeError, match="the second process failed"):
        publish(call)

    assert len(stored) == 4  # the two segments made here were stored, then deleted
    assert not any(release_storage().exists(name) for name in stored)
    assert not Release.objects.exists()
    assert not PublicContribution.objects.exists()
    assert not ReleaseEntry.objects.exists()


def stored_under(call) -> list[str]:
    """Every file in the release storage under the call's folder, however deep."""
    storage = release_storage()
    found, folders = [], [str(call.pk)]
    while folders:
        folder = folders.pop()
        if not storage.exists(folder):
            continue
        subfolders, names = storage.listdir(folder)
        found += [f"{folder}/{name}" for name in names]
        folders += [f"{folder}/{sub}" for sub in subfolders]
    return found


def test_the_second_process_stores_the_files_it_makes(call, monkeypatch):
    """Only their names, sizes and hashes come back (releases.make_and_store): the segments made
    there are stored there, in the storage of the settings, under the release's folder."""
    monkeypatch.setattr(releases, "SEGMENT_ROWS", 2)
    monkeypatch.setattr(releases, "PARALLEL_AFTER", 1)
    saved_here = []
    save = releases.SegmentFiles.save

    def remember(self, index, rows, encoded):
        saved_here.append(index)
        return save(self, index, rows, encoded)

    monkeypatch.setattr(releases.SegmentFiles, "save", remember)

    release = publish(call)

    assert saved_here == [0]
    segments = list(release.segments.order_by("index"))
    assert [s.index for s in segments] == list(range(6))
    assert sorted(stored_under(call)) == sorted(
        name for s in segments for name in (s.csv_name, s.json_name)
    )


def test_a_failure_with_segments_stored_by_the_second_process_leaves_nothing_stored(
    call, monkeypatch
):
    """Publishing fails here (an entry's COPY) while the second process has stored segments
    not yet taken: theirs are deleted with the rest, as are those stored here."""
    monkeypatch.setattr(releases, "SEGMENT_ROWS", 2)
    monkeypatch.setattr(releases, "PARALLEL_AFTER", 1)
    insert = releases.insert_rows
    entry_batches = []

    def failing_at_the_fifth_batch(model, *args, **kwargs):
        if model is ReleaseEntry:
            entry_batches.append(1)
            if len(entry_batches) == 5:
                raise RuntimeError("the database went away")
        return insert(model, *args, **kwargs)

    monkeypatch.setattr(releases, "insert_rows", failing_at_the_fifth_batch)

    with pytest.raises(RuntimeError, match="the database went away"):
        publish(call)

    assert stored_under(call) == []
    assert not Release.objects.exists()


def test_when_the_second_process_stores_half_a_segment_it_deletes_that_half(call, monkeypatch):
    monkeypatch.setattr(releases, "SEGMENT_ROWS", 2)
    monkeypatch.setattr(releases, "PARALLEL_AFTER", 1)
    storage_class = type(release_storage())
    save = storage_class.save

    def no_json_there(self, name, content, *args, **kwargs):
        if name.endswith(".json") and os.getpid() != PARENT:
            raise OSError("the disk is full")
        return save(self, name, content, *args, **kwargs)

    monkeypatch.setattr(storage_class, "save", no_json_there)

    with pytest.raises(OSError, match="the disk is full"):
        publish(call)

    assert stored_under(call) == []
    assert not Release.objects.exists()

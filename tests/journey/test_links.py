"""Emailed single-purpose links: 256-bit tokens, stored only as hashes, replaced on reissue."""

import hashlib

from submissions.models import ContributorLink

from ..factories import make_call, make_submission

RESUME = ContributorLink.Purpose.RESUME
STATUS = ContributorLink.Purpose.STATUS


def test_it_stores_only_the_sha256_of_a_256_bit_token(db):
    submission = make_submission(make_call())
    raw = ContributorLink.issue(submission, RESUME)
    link = ContributorLink.objects.get(submission=submission)
    assert len(raw) == 43  # 32 random bytes, URL-safe base64 without padding
    assert link.token_sha256 == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {link.token_sha256, str(link.pk)}


def test_it_finds_the_submission_by_its_token_and_purpose(db):
    submission = make_submission(make_call())
    raw = ContributorLink.issue(submission, RESUME)
    assert ContributorLink.find(raw, RESUME).submission == submission
    assert ContributorLink.find(raw, STATUS) is None


def test_issuing_again_invalidates_the_earlier_link(db):
    submission = make_submission(make_call())
    first = ContributorLink.issue(submission, RESUME)
    second = ContributorLink.issue(submission, RESUME)
    assert ContributorLink.find(first, RESUME) is None
    assert ContributorLink.find(second, RESUME).submission == submission
    assert ContributorLink.objects.filter(submission=submission).count() == 1


def test_links_for_other_purposes_are_kept(db):
    submission = make_submission(make_call())
    status = ContributorLink.issue(submission, STATUS)
    ContributorLink.issue(submission, RESUME)
    assert ContributorLink.find(status, STATUS).submission == submission


def test_a_forged_or_empty_token_finds_nothing(db):
    submission = make_submission(make_call())
    raw = ContributorLink.issue(submission, RESUME)
    assert ContributorLink.find(raw[:-1] + ("A" if raw[-1] != "A" else "B"), RESUME) is None
    assert ContributorLink.find("", RESUME) is None
    assert ContributorLink.find("x" * 5000, RESUME) is None

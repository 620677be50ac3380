"""One key per mailbox: quoting undone where it changes nothing, case folded, space trimmed."""

import pytest

from submissions.common.addresses import mailbox_key


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("jane@example.org", "jane@example.org"),
        ("  Jane@Example.ORG ", "jane@example.org"),
        ('"jane"@example.org', "jane@example.org"),
        ('"Jane.Smith"@example.org', "jane.smith@example.org"),
        ('"ja\\ne"@example.org', "jane@example.org"),  # a quoted pair is the character itself
        ("jane@example.org.", "jane@example.org"),  # the root's dot
        # Quotes that change what the address is stay.
        ('"jane smith"@example.org', '"jane smith"@example.org'),
        ('"jane..smith"@example.org', '"jane..smith"@example.org'),
        ("not an address", "not an address"),
    ],
)
def test_each_spelling_of_a_mailbox_has_one_key(typed, key):
    assert mailbox_key(typed) == key

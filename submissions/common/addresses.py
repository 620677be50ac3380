"""Email addresses as the mail system sees them: one key for one mailbox.

`"jane"@Example.org` and `jane@example.org` reach the same mailbox, so a limit per address
counts them together (common/ratelimits.py) and "Lost your link?" finds the same submissions
for both (publishing/status.py).
"""

import re

# The characters of a dot-atom (RFC 5322 3.2.3): a quoted local part of only these means the
# same as the unquoted one.
DOT_ATOM_TEXT = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
QUOTED_PAIR = re.compile(r"\\(.)")


def mailbox_key(address: str) -> str:
    """The address with surrounding space trimmed, needless quotes removed and case folded.

    Case is folded in the local part too: the standard lets a server tell `Jane` from `jane`,
    but no common one does, and a limit that counts them together is only the stricter.
    A quoted local part that needs its quotes (`"jane doe"`) keeps them.
    """
    value = address.strip()
    local, at, domain = value.rpartition("@")
    if not at:
        return value.lower()
    if len(local) >= 2 and local.startswith('"') and local.endswith('"'):
        unquoted = QUOTED_PAIR.sub(r"\1", local[1:-1])
        if DOT_ATOM_TEXT.match(unquoted):
            local = unquoted
    return f"{local}@{domain.rstrip('.')}".lower()

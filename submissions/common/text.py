"""Characters a value must not hold: control characters, in any text a person types (in the
public forms and in the admin alike); and in a one-line value, line breaks and the invisible or
direction-changing ones that make text read differently from what it is.

A name or an organisation ends up in an email's body and a CSV cell; with a line break in it, a
contributor could write a paragraph that reads as the service's own words.
"""

import re

from django.core.exceptions import ValidationError

LINE_BREAKS = re.compile(r"[\r\n\x85\u2028\u2029]")
# Zero-width spaces and joiners, direction marks, embeddings, overrides and isolates, the Arabic
# letter mark and the byte-order mark.
INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\u061c\ufeff]")
# Unicode's noncharacters: U+FDD0 to U+FDEF, and the last two code points of every plane.
NONCHARACTERS = r"\ufdd0-\ufdef" + "".join(
    rf"\U{plane:04x}fffe\U{plane:04x}ffff" for plane in range(17)
)
# The page shows back what was typed; these code points are not allowed in HTML at all.
NOT_IN_HTML = re.compile(rf"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f{NONCHARACTERS}]")
# Control characters other than tab, line feed and carriage return (C1 ones too), the
# direction overrides and Unicode's noncharacters: never typed by a person, forbidden in HTML
# (a page showing one is invalid) and in XML 1.0 (the releases' feed), and they break CSV,
# email and screen readers downstream. A NUL cannot be stored in PostgreSQL at all.
CONTROL_CHARACTERS = re.compile(
    rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069{NONCHARACTERS}]"
)


def reject_control_characters(value: object, label: str) -> None:
    """Refuse control characters in any text a person types, naming the field."""
    if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
        raise ValidationError(
            f"{label} must not contain control characters; retype it rather than pasting it",
            code="control_characters",
        )


def reject_line_breaks_and_invisible(value: object, label: str) -> None:
    """Refuse what a one-line value must not hold, naming the field."""
    if not isinstance(value, str):
        return
    if LINE_BREAKS.search(value):
        raise ValidationError(
            f"{label} must be on one line; remove the line breaks", code="line_breaks"
        )
    if INVISIBLE.search(value):
        raise ValidationError(
            f"{label} must not contain invisible or direction-changing characters; "
            "retype it rather than pasting it",
            code="invisible_characters",
        )


def validate_single_line(value: str) -> None:
    """A model field validator: the admin refuses a line break in, say, a call's title."""
    reject_line_breaks_and_invisible(value, "This field")


def printable_for_html(value: str, one_line: bool = False) -> str:
    """What was typed, for showing back in a page: code points HTML forbids become U+FFFD,
    and in a one-line box, line breaks become spaces."""
    if not isinstance(value, str):
        return value
    if one_line:
        value = LINE_BREAKS.sub(" ", value)
    return NOT_IN_HTML.sub("\ufffd", value)


def whole_number(value: str) -> int | None:
    """A number typed as ASCII digits ("12"), else None. `str.isdigit()` alone is no guard
    before `int()`: "²" is a digit to it and a ValueError to `int()`."""
    return int(value) if value.isascii() and value.isdigit() else None

"""Work in slices: itertools.batched (Python 3.12) for Python 3.11, as lists."""

from collections.abc import Iterable, Iterator
from itertools import islice


def batched(items: Iterable, size: int) -> Iterator[list]:
    """`items` in lists of `size` (the last may be shorter), reading only one list at a time."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch

"""The release's files are written with shortcuts (publishing.md, "Publishing at scale"): each
must give exactly what the slow, obvious way gives, on text made to catch them out."""

import csv
import io
import json
import random
from datetime import date

from submissions.exports.columns import (
    CELL_BREAKS,
    CELL_SPACES,
    FORMULA_SIGNS,
    INNER_FORMULA_RE,
    has_inner_formula,
    neutralise,
    neutralise_breaks,
    starts_formula,
)
from submissions.models import new_public_ids
from submissions.models.releases import PUBLIC_ID_ALPHABET, PUBLIC_ID_LENGTH
from submissions.publishing.opendata import ID_PLACEHOLDER, Row, csv_line, encode_rows


def test_a_csv_record_is_what_the_csv_module_writes():
    rng = random.Random(21)
    alphabet = ",\"\r\n \t;ab'é\x00\u2028"
    for _ in range(20_000):
        cells = [
            "".join(rng.choices(alphabet, k=rng.randint(0, 6))) for _ in range(rng.randint(1, 5))
        ]
        written = io.StringIO()
        csv.writer(written, lineterminator="\r\n").writerow(cells)
        assert csv_line(cells) + "\r\n" == written.getvalue(), cells


def test_the_quick_check_for_a_formula_after_a_break_agrees_with_the_expression():
    rng = random.Random(23)
    alphabet = CELL_SPACES + FORMULA_SIGNS + CELL_BREAKS + "ab'\"é"
    for _ in range(50_000):
        text = "".join(rng.choices(alphabet, k=rng.randint(0, 12)))
        assert has_inner_formula(text) == bool(INNER_FORMULA_RE.search(text)), repr(text)


def by_the_expression(cell: str) -> str:
    """neutralise() the slow, obvious way: INNER_FORMULA_RE substituted over the cell."""
    inner = INNER_FORMULA_RE.sub(r"\1'\2", cell)
    return "'" + inner if starts_formula(cell) else inner


def test_the_breaks_taken_one_at_a_time_give_what_the_expression_gives():
    rng = random.Random(31)
    alphabet = CELL_SPACES + FORMULA_SIGNS + CELL_BREAKS + "ab'\"é"
    for _ in range(50_000):
        text = "".join(rng.choices(alphabet, k=rng.randint(0, 16)))
        assert neutralise_breaks(text) == INNER_FORMULA_RE.sub(r"\1'\2", text), repr(text)
        assert neutralise(text) == by_the_expression(text), repr(text)
    # Long text, as a segment's: breaks and signs far apart and close together.
    for _ in range(20):
        words = rng.choices(
            ["prose", "- item", "\r\n", ";", " \t", "=1+2", "\uff20x", "\n\n-"], k=5000
        )
        text = " ".join(words)
        assert neutralise_breaks(text) == INNER_FORMULA_RE.sub(r"\1'\2", text)


def test_public_ids_made_in_bulk_are_of_the_alphabet_and_all_different():
    ids = new_public_ids(20_000)

    assert len(set(ids)) == 20_000
    assert all(len(i) == PUBLIC_ID_LENGTH and set(i) <= set(PUBLIC_ID_ALPHABET) for i in ids)
    # Every letter in use, about equally (no letter favoured by the bytes' mapping).
    counts = {letter: 0 for letter in PUBLIC_ID_ALPHABET}
    for public_id in ids:
        for letter in public_id:
            counts[letter] += 1
    expected = 20_000 * PUBLIC_ID_LENGTH / len(PUBLIC_ID_ALPHABET)
    assert all(abs(n - expected) < expected * 0.1 for n in counts.values())


def test_a_segment_is_what_the_csv_module_and_neutralise_write_cell_by_cell():
    """encode_rows() puts the apostrophes after breaks in over the segment's whole text, and
    writes each row's JSON itself: the same bytes as neutralise() on each cell, then
    csv.writer, and json.dumps for each row."""
    rng = random.Random(29)
    # Some of the spaces are control characters JSON escapes as \u00XX (a segment with one is
    # written the exact way, so every other segment goes without them); the backslash too.
    every = CELL_SPACES + FORMULA_SIGNS + CELL_BREAKS + ",\"ab'é\\\b\u2028"
    usual = "".join(c for c in every if ord(c) >= 32 or c in "\t\n\r")
    columns = [{"name": "question_1"}, {"name": "question_2"}]
    pattern = f"https://example.org/c/{ID_PLACEHOLDER}"
    alphabet = every

    def text(most: int) -> str:
        return "".join(rng.choices(alphabet, k=rng.randint(0, most)))

    for n in range(1000):
        alphabet = usual if n % 2 else every
        rows = [
            Row(
                public_id=f"id{n}",
                first_release=1,
                first_release_date=date(2018, 3, 6),
                credit=text(6),
                themes=[text(4) for _ in range(rng.randint(0, 2))],
                answers=[text(12), text(12)],
                links=[text(5) for _ in range(rng.randint(0, 2))],
            )
            for n in range(rng.randint(1, 6))
        ]
        written = io.StringIO()
        writer = csv.writer(written, lineterminator="\r\n")
        records = []
        for row in rows:
            url = pattern.replace(ID_PLACEHOLDER, row.public_id)
            cells = [row.credit, "; ".join(row.themes), *row.answers, "\n".join(row.links)]
            writer.writerow(
                [row.public_id, url, "1", "2018-03-06", *(by_the_expression(c) for c in cells)]
            )
            record = {
                "public_id": row.public_id,
                "url": url,
                "first_release": 1,
                "first_release_date": "2018-03-06",
                "credit": row.credit,
                "themes": row.themes,
                "question_1": row.answers[0],
                "question_2": row.answers[1],
                "links": row.links,
            }
            records.append(",\n" + json.dumps(record, ensure_ascii=False))

        csv_bytes, json_bytes = encode_rows(rows, columns, pattern)

        assert csv_bytes == written.getvalue().encode(), rows
        assert json_bytes == "".join(records).encode(), rows

"""An Office package is judged by the bytes it really inflates to, not by the sizes it declares."""

import io
import struct
import zipfile
import zlib

import pytest

from submissions.journey import file_checks

from .. import samples
from ..contributor import walk_to
from ..factories import make_call
from ..files import upload

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024
# Past the cap, which the tests lower from 300 MB to 50 MB to keep them quick.
CAP = 50 * MiB
BOMB_SIZE = 64 * MiB


def deflated_zeros(size: int) -> bytes:
    """A raw deflate stream of `size` zero bytes, made a chunk at a time."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(MiB)
    parts = [deflater.compress(chunk) for _ in range(size // MiB)]
    return b"".join([*parts, deflater.flush()])


def lying_package(kind: str, real_size: int, declared_size: int) -> bytes:
    """A valid package with one more member, whose directory entry declares `declared_size`
    bytes (and the CRC of that many zeros), while its data inflates to `real_size`."""
    buffer = io.BytesIO(samples.ooxml(kind) if kind != "odt" else samples.odt())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as package:
        package.writestr("media/padding.bin", b"placeholder")
    data = bytearray(buffer.getvalue())
    compressed = deflated_zeros(real_size)
    crc = zlib.crc32(bytes(declared_size))
    # Rebuild the last member by hand: local header, data, then the directory, as zipfile wrote
    # them, with the sizes and CRC the attacker chose.
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as package:
        members = package.infolist()
        last = members[-1]
    name = last.filename.encode()
    local = (
        struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            20,
            0,
            8,
            0,
            0,
            crc,
            len(compressed),
            declared_size,
            len(name),
            0,
        )
        + name
    )
    head = bytes(data[: last.header_offset])
    new_offset = len(head)
    body = head + local + compressed
    directory = bytearray()
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as package:
        for member in package.infolist():
            member_name = member.filename.encode()
            is_last = member.filename == last.filename
            directory += (
                struct.pack(
                    "<4s6H3L5H2L",
                    b"PK\x01\x02",
                    20,
                    20,
                    0,
                    member.compress_type,
                    0,
                    0,
                    crc if is_last else member.CRC,
                    len(compressed) if is_last else member.compress_size,
                    declared_size if is_last else member.file_size,
                    len(member_name),
                    0,
                    0,
                    0,
                    0,
                    0,
                    new_offset if is_last else member.header_offset,
                )
                + member_name
            )
    end = struct.pack(
        "<4s4H2LH",
        b"PK\x05\x06",
        0,
        0,
        len(members),
        len(members),
        len(directory),
        len(body),
        0,
    )
    return body + bytes(directory) + end


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return lying_package("docx", real_size=BOMB_SIZE, declared_size=1000)


@pytest.fixture(autouse=True)
def cap(monkeypatch):
    monkeypatch.setattr(file_checks, "MAX_PACKAGE_EXPANDED", CAP)


def test_the_bomb_declares_a_small_size_that_zipfile_believes(bomb):
    assert len(bomb) < MiB
    with zipfile.ZipFile(io.BytesIO(bomb)) as package:
        assert sum(member.file_size for member in package.infolist()) < 2000
        assert package.read("media/padding.bin") == bytes(1000)  # zipfile stops where told


def test_a_docx_declaring_1000_bytes_but_inflating_past_the_cap_is_refused(client, bomb):
    call = make_call()
    walk_to(client, call, "files")
    response = upload(client, call, [("report.docx", bomb)])
    page = response.content.decode()
    assert response.status_code == 200
    assert "“report.docx” is not a valid Office package" in page


@pytest.mark.parametrize("kind", ["docx", "xlsx", "odt"])
def test_a_member_larger_than_it_declares_is_refused_even_under_the_cap(kind):
    package = lying_package(kind, real_size=2 * MiB, declared_size=1000)
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        assert not file_checks.inflates_within(io.BytesIO(package), archive, CAP)


def test_a_package_that_really_inflates_past_the_cap_is_refused():
    package = lying_package("pptx", real_size=3 * MiB, declared_size=3 * MiB)
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        assert file_checks.inflates_within(io.BytesIO(package), archive, 4 * MiB)
        assert not file_checks.inflates_within(io.BytesIO(package), archive, 2 * MiB)


def test_an_honest_package_is_still_accepted(client):
    call = make_call()
    walk_to(client, call, "files")
    honest = lying_package("docx", real_size=5 * MiB, declared_size=5 * MiB)
    response = upload(client, call, [("report.docx", honest)])
    assert response.status_code == 302

"""Checking uploaded files by name, size and content.

Receiving them (streamed to disk, with the names as sent) is upload_handlers.py.

The type of a file is decided from its bytes (`filetype`, then a structural check of Office
packages with `zipfile` and `olefile`); the extension of its name must agree. The browser's
Content-Type is never trusted.
"""

import hashlib
import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO

import filetype
import olefile
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from ..common.text import NONCHARACTERS
from ..common.wording import human_size
from ..models import CheckedFile

MAX_NAME_LENGTH = 200
SNIFF_BYTES = 8192
CHUNK = 64 * 1024
# An Office package is a zip: refuse one that would expand to more than this (a zip bomb).
MAX_PACKAGE_EXPANDED = 300 * 1024 * 1024
MAX_PACKAGE_MEMBERS = 10_000
# What reading a corrupt, truncated or hostile package can raise: each means "not valid".
BROKEN_PACKAGE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    KeyError,
    ValueError,
    zlib.error,
)

# Cc, the bidirectional overrides that can make "evil‮fdp.exe" read as "evilexe.pdf", and the
# invisible characters (zero-width, line separators, byte-order mark, Hangul filler) that can
# make two names look alike or a name look empty, and noncharacters, which HTML forbids.
NAME_CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\u061c\ufeff"
    rf"\u2028\u2029\u3164{NONCHARACTERS}]"
)
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Text that a browser, shell or interpreter would run: never evidence in a .txt or .csv.
SCRIPT_MARKERS = (b"#!", b"<?php", b"<script", b"<html", b"<!doctype html", b"<svg", b"@echo off")
EXECUTABLE_KINDS = {"exe", "elf", "wasm", "crx", "deb", "rpm", "swf", "cab"}


@dataclass(frozen=True)
class FileType:
    label: str
    content_type: str
    # What filetype.guess() may call the content; None for plain text, which has no signature.
    detected: frozenset[str | None]


ALLOWED_TYPES: dict[str, FileType] = {
    "pdf": FileType("PDF", "application/pdf", frozenset({"pdf"})),
    "docx": FileType(
        "Word document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        frozenset({"docx", "zip"}),
    ),
    # filetype names OLE2 files by guesswork; the WordDocument stream check below decides.
    "doc": FileType(
        "Word 97-2003 document", "application/msword", frozenset({"doc", "ppt", "xls", None})
    ),
    "odt": FileType(
        "OpenDocument text", "application/vnd.oasis.opendocument.text", frozenset({"odt", "zip"})
    ),
    "pptx": FileType(
        "PowerPoint presentation",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        frozenset({"pptx", "zip"}),
    ),
    "xlsx": FileType(
        "Excel spreadsheet",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        frozenset({"xlsx", "zip"}),
    ),
    "csv": FileType("CSV", "text/csv", frozenset({None})),
    "txt": FileType("text file", "text/plain", frozenset({None})),
    "rtf": FileType("RTF document", "application/rtf", frozenset({"rtf"})),
    "png": FileType("PNG image", "image/png", frozenset({"png"})),
    "jpg": FileType("JPEG image", "image/jpeg", frozenset({"jpg"})),
    "jpeg": FileType("JPEG image", "image/jpeg", frozenset({"jpg"})),
}
ALLOWED_LIST = "PDF, DOCX, DOC, ODT, PPTX, XLSX, CSV, TXT, RTF, PNG or JPEG"
# The part every valid package of each kind has.
OOXML_MAIN_PART = {
    "docx": "word/document.xml",
    "pptx": "ppt/presentation.xml",
    "xlsx": "xl/workbook.xml",
}


def display_name(sent: str) -> str:
    """A name safe to show in a message: no folders, no control characters, not too long."""
    name = sent.replace("\\", "/").rsplit("/", 1)[-1]
    name = NAME_CONTROL.sub("", name).strip() or "your file"
    return name if len(name) <= 60 else name[:50] + "…" + name[-8:]


def clean_file_name(sent: str) -> str:
    """The name as sent by the browser, refused unless it is a plain file name."""
    shown = display_name(sent)
    if "/" in sent or "\\" in sent:
        raise ValidationError(
            f"The name of “{shown}” includes folder names; choose the file itself",
            code="name_path",
        )
    if NAME_CONTROL.search(sent):
        raise ValidationError(
            f"The name of “{shown}” contains control characters or invisible ones; rename the "
            "file and try again",
            code="name_control",
        )
    name = unicodedata.normalize("NFC", sent).strip()
    if name in {"", ".", ".."}:
        raise ValidationError("A file has no name; rename it and try again", code="name_missing")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"The name of “{shown}” is too long; rename it to {MAX_NAME_LENGTH} characters "
            "or fewer",
            code="name_too_long",
        )
    return name


def inflates_within(stream: IO[bytes], package: zipfile.ZipFile, limit: int) -> bool:
    """Decompress every member, counting the bytes it really gives, up to `limit` in all.

    The sizes in an archive's directory are the sender's word: a member declared as 1,000 bytes
    can inflate to gigabytes when Word opens it (zipfile itself stops at the declared size).
    False for a bomb, a member whose real size is not the declared one, or an unknown method.
    """
    total = 0
    for member in package.infolist():
        encrypted = member.flag_bits & 0x1
        if encrypted or member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return False
        stream.seek(member.header_offset)
        header = stream.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            return False
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        stream.seek(member.header_offset + 30 + name_length + extra_length)
        inflater = zlib.decompressobj(-15) if member.compress_type == zipfile.ZIP_DEFLATED else None
        left, produced = member.compress_size, 0
        while left > 0 and not (inflater and inflater.eof):
            chunk = stream.read(min(CHUNK, left))
            if not chunk:
                return False
            left -= len(chunk)
            if inflater is None:
                produced += len(chunk)
            else:
                out = inflater.decompress(chunk, CHUNK)
                produced += len(out)
                # Output is taken a chunk at a time, so a bomb never fills the memory.
                while (inflater.unconsumed_tail or len(out) == CHUNK) and total + produced <= limit:
                    out = inflater.decompress(inflater.unconsumed_tail, CHUNK)
                    produced += len(out)
            if total + produced > limit:
                return False
        if (inflater is not None and not inflater.eof) or produced != member.file_size:
            return False
        total += produced
    return True


def _is_valid_ooxml(stream: IO[bytes], extension: str) -> bool:
    try:
        with zipfile.ZipFile(stream) as package:
            members = package.infolist()
            names = {member.filename for member in members}
            if len(members) > MAX_PACKAGE_MEMBERS:
                return False
            if sum(member.file_size for member in members) > MAX_PACKAGE_EXPANDED:
                return False
            if not inflates_within(stream, package, MAX_PACKAGE_EXPANDED):
                return False
            if "[Content_Types].xml" not in names or OOXML_MAIN_PART[extension] not in names:
                return False
            # A macro project has no place in a .docx/.pptx/.xlsx; its presence means disguise.
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                return False
            # Reading the start of the main part catches a corrupt or truncated package.
            with package.open(OOXML_MAIN_PART[extension]) as part:
                return bool(part.read(512))
    except BROKEN_PACKAGE:
        return False


def _is_valid_odt(stream: IO[bytes]) -> bool:
    try:
        with zipfile.ZipFile(stream) as package:
            names = set(package.namelist())
            if "mimetype" not in names or "content.xml" not in names:
                return False
            if sum(member.file_size for member in package.infolist()) > MAX_PACKAGE_EXPANDED:
                return False
            if not inflates_within(stream, package, MAX_PACKAGE_EXPANDED):
                return False
            mimetype = package.read("mimetype").strip()
            return mimetype == b"application/vnd.oasis.opendocument.text"
    except BROKEN_PACKAGE:
        return False


def _is_word_97(stream: IO[bytes], head: bytes) -> bool:
    # An installer (.msi) is also an OLE compound file: only a WordDocument stream makes a .doc.
    if not head.startswith(OLE_SIGNATURE):
        return False
    try:
        with olefile.OleFileIO(stream) as ole:
            return ole.exists("WordDocument")
    except (OSError, ValueError, IndexError, TypeError):
        return False


def _is_plain_text(head: bytes) -> bool:
    sample = head.removeprefix(b"\xef\xbb\xbf")
    if b"\x00" in sample:
        return False
    # The sample may end in the middle of a UTF-8 sequence: ignore an incomplete last character.
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(sample) - 3:
            try:
                text = sample.decode("cp1252")
            except UnicodeDecodeError:
                return False
        else:
            text = sample[: error.start].decode("utf-8")
    return not re.search(r"[\x00-\x08\x0e-\x1f\x7f]", text)


def _looks_like_script(head: bytes) -> bool:
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    return start.startswith(SCRIPT_MARKERS[0]) or any(m in start for m in SCRIPT_MARKERS[1:])


def sha256_of(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks(CHUNK):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def check_upload(upload: UploadedFile, max_size: int) -> CheckedFile:
    """Check one upload by name, size and content; raise ValidationError naming the file."""
    sent = getattr(upload, "sent_name", None) or upload.name or ""
    name = clean_file_name(sent)
    shown = display_name(name)
    size = upload.size or 0  # set for every file a parser received; None only for a bare File
    if size == 0:
        raise ValidationError(f"“{shown}” is empty; choose a file with something in it", "empty")
    if size > max_size:
        raise ValidationError(
            f"“{shown}” is {human_size(size)}; each file must be {human_size(max_size)} or smaller",
            code="too_large",
        )
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    kind = filetype.guess(head)
    detected = kind.extension if kind else None
    if detected in EXECUTABLE_KINDS or (detected is None and _looks_like_script(head)):
        raise ValidationError(
            f"“{shown}” is a program or script, which cannot be uploaded", code="executable"
        )
    allowed = ALLOWED_TYPES.get(extension)
    if allowed is None:
        raise ValidationError(
            f"“{shown}” is not a type of file you can upload; upload a {ALLOWED_LIST} file",
            code="file_type",
        )
    valid = detected in allowed.detected
    if valid and extension in OOXML_MAIN_PART:
        valid = _is_valid_ooxml(upload, extension)
        kind_of = "valid Office package"
    elif valid and extension == "odt":
        valid = _is_valid_odt(upload)
        kind_of = "valid OpenDocument file"
    elif valid and extension == "doc":
        valid = _is_word_97(upload, head)
        kind_of = allowed.label
    elif valid and allowed.detected == {None}:
        valid = _is_plain_text(head)
        kind_of = allowed.label
    else:
        kind_of = allowed.label
    upload.seek(0)
    if not valid:
        raise ValidationError(
            f"“{shown}” is not a {kind_of}, although its name ends in .{extension}; "
            "save it again in that format, or upload it in another format",
            code="content_mismatch",
        )
    return CheckedFile(
        upload=upload,
        name=name,
        size=size,
        content_type=allowed.content_type,
        sha256=sha256_of(upload),
    )

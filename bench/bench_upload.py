"""Peak memory of a gunicorn worker while it receives 5 files of 10 MB in one request.

Usage: .venv/bin/python bench/bench_upload.py [--port 8550]

Starts one sync gunicorn worker on 127.0.0.1 with a throwaway SQLite database and attachment
folder, walks a draft to the files step, warms the worker up with a small upload, then posts
5 x 10 MB files at once. Prints the worker's resident memory when idle and its peak (VmHWM,
reset just before the upload) and fails if the peak exceeds idle + 50 MB. Also sends headers
announcing a 200 MB body and times the refusal, which must come before any body is sent.
"""

import argparse
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
from server import gunicorn  # noqa: E402

from tests.journey_steps import CALL, Step, csrf_token, found, walk  # noqa: E402

MB = 1024 * 1024
LIMIT_GROWTH = 50 * MB


def free_port(preferred: int) -> int:
    for port in [preferred, *range(8500, 8600)]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port in 8500-8599")


def status_kb(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1)) * 1024


def draft_at_files_step(base: str) -> requests.Session:
    """A new contributor's session, with every step before the files step done."""
    session = requests.Session()

    def get(path: str, step: Step) -> str:
        response = session.get(base + path)
        assert response.status_code == 200 and found(step.expect, response.text), path
        return response.text

    def post(path: str, step: Step, data: dict) -> None:
        response = session.post(base + path, data, allow_redirects=False)
        assert response.status_code == 302 and step.then in response.headers["Location"], path

    walk(get, post, until="files")
    return session


def post_files(session: requests.Session, base: str, files: list[tuple[str, bytes]]) -> float:
    page = session.get(f"{base}/{CALL}/files/").text
    started = time.perf_counter()
    response = session.post(
        f"{base}/{CALL}/files/",
        data={"action": "add", "csrfmiddlewaretoken": csrf_token(page)},
        files=[("files", (name, content, "application/pdf")) for name, content in files],
        allow_redirects=False,
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 302, (response.status_code, response.text[:2000])
    return elapsed


def pdf(size: int, tag: int) -> bytes:
    head = b"%PDF-1.4\n% benchmark file " + str(tag).encode() + b"\n"
    return head + b"0" * (size - len(head))


def refuse_200_mb(port: int) -> tuple[int, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    connection.putrequest("POST", f"/{CALL}/files/")
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Content-Length", str(200 * MB))
    connection.endheaders()  # and not one byte of the body
    response = connection.getresponse()
    response.read()
    return response.status, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8550)
    args = parser.parse_args()
    port = free_port(args.port)
    base = f"http://127.0.0.1:{port}"

    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        env = {
            **os.environ,
            "DEBUG": "1",
            "SECRET_KEY": "bench-only",
            "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
            "ATTACHMENTS_ROOT": f"{tmp}/attachments",
            "FILE_UPLOAD_TEMP_DIR": tmp,
            "AWS_STORAGE_BUCKET_NAME": "",
            "LOG_LEVEL": "ERROR",
        }
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
        )
        options = ["--workers", "1", "--timeout", "120"]
        with gunicorn(port, env, Path(tmp) / "gunicorn.log", *options) as server:
            worker = server.children()[0].pid

            # Warm up: every module and template the upload path touches is loaded now.
            warm = draft_at_files_step(base)
            small = post_files(warm, base, [("warm-up.pdf", pdf(10 * MB, 0))])
            session = draft_at_files_step(base)
            time.sleep(0.5)

            idle = status_kb(worker, "VmRSS")
            Path(f"/proc/{worker}/clear_refs").write_text("5")  # reset the peak to now
            files = [(f"evidence-{n}.pdf", pdf(10 * MB, n)) for n in range(1, 6)]
            elapsed = post_files(session, base, files)
            peak = status_kb(worker, "VmHWM")
            status, refused_in = refuse_200_mb(port)

    growth = peak - idle
    print(f"worker idle RSS:            {idle / MB:7.1f} MB")
    print(f"worker peak RSS (5x10 MB):  {peak / MB:7.1f} MB")
    print(f"growth:                     {growth / MB:7.1f} MB (limit {LIMIT_GROWTH / MB:.0f} MB)")
    ratio = elapsed / small
    print(f"5x10 MB upload took {elapsed:.2f} s; 1x10 MB took {small:.2f} s (ratio {ratio:.1f})")
    print(f"200 MB announced: HTTP {status} after {refused_in * 1000:.0f} ms, no body sent")
    if growth > LIMIT_GROWTH or status != 413:
        raise SystemExit("FAIL")
    print("PASS")


if __name__ == "__main__":
    main()

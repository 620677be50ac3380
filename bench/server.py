"""gunicorn for the benchmarks: on 127.0.0.1, ready once /healthz answers, stopped gracefully."""

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def gunicorn(port: int, env: dict[str, str], log: Path, *options: str) -> Iterator[psutil.Process]:
    """Serve callforevidence.wsgi with these gunicorn options; yields the master process."""
    command = [
        sys.executable, "-m", "gunicorn", "callforevidence.wsgi",
        "--bind", f"127.0.0.1:{port}",
        # Gunicorn's control socket lives in the home directory, shared by every instance.
        "--no-control-socket",
        *options,
    ]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        for _ in range(150):  # 30 s, for a busy machine
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"gunicorn did not answer /healthz within 30 s; see {log}")
        yield psutil.Process(process.pid)
    finally:
        process.terminate()  # SIGTERM is graceful: workers finish their requests
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

"""Debian's Chromium, driven by Playwright (which downloads no browser of its own).

A pytest plugin (tests/conftest.py): the `browser` fixture, one headless Chromium per test.

A tool the tests need (Chromium, LibreOffice, pdftoppm, the Nu checker) may be missing on a
developer's machine: there the test is skipped, saying why. Under CI (the environment variable
CI set, as `.ci/run` does; `make test` installs every tool when run as root) a missing tool
fails the test instead, so a browser test cannot pass in CI as a silent skip.
"""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Without the background-networking flag, Chromium's calls home are refused by this machine.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(tool: str, how: str) -> NoReturn:
    """Fail under CI, skip elsewhere: `tool` is missing and `how` says how to get it."""
    if in_ci():
        pytest.fail(f"{tool} is missing, and CI is set: {how}", pytrace=False)
    pytest.skip(f"{tool} is missing: {how} (under CI=1 this fails instead of skipping)")


@contextmanager
def chromium_open(monkeypatch) -> Iterator:
    """Headless Chromium under Playwright, for as long as the block runs."""
    if CHROMIUM is None:
        missing("Chromium", "`make test` installs it when run as root (apt-get install chromium)")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls here are plain sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        # While Playwright is open its event loop counts as running in this thread, so Django
        # keeps the database connections opened meanwhile apart from the thread's own (as an
        # async context's), and a test's teardown closes only the thread's. Close them here:
        # a persistent connection left open keeps the test database from being dropped.
        connections.close_all()
        chromium.close()


@pytest.fixture
def browser(monkeypatch):
    with chromium_open(monkeypatch) as chromium:
        yield chromium

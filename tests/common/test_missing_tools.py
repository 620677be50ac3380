"""A browser test may not pass in CI by being skipped: with Chromium missing it fails when the
environment variable CI is set (as `.ci/run` sets it) and is skipped, saying why, elsewhere.

Each case runs pytest in a child process on a one-test file asking for the `browser` fixture,
with a PATH on which there is no Chromium.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
A_BROWSER_TEST = """
def test_needs_a_browser(browser):
    raise AssertionError("ran without Chromium")
"""


def run_without_chromium(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "empty-path").mkdir()
    (tmp_path / "test_a_browser.py").write_text(A_BROWSER_TEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CI", "DJANGO_SETTINGS_MODULE", "PYTEST_ADDOPTS")
    }
    env["PATH"] = str(tmp_path / "empty-path")  # no chromium, no chromium-browser
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(  # noqa: S603 - this interpreter, our own plugin, a file we wrote
        [
            sys.executable,
            *("-m", "pytest", "-rs", "-p", "no:cacheprovider", "-p", "no:django"),
            *("-p", "no:randomly", "-p", "tests.browser", "-c", str(tmp_path / "pytest.ini")),
            *("--rootdir", str(tmp_path), str(tmp_path / "test_a_browser.py")),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("ci", ["1", "true"])
def test_a_browser_test_fails_under_ci_when_chromium_is_missing(tmp_path, ci):
    run = run_without_chromium(tmp_path, ci)

    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 error" in run.stdout, run.stdout  # at the fixture's set-up: not a pass, not a skip
    assert "Chromium is missing, and CI is set" in run.stdout
    assert "ran without Chromium" not in run.stdout
    assert "skipped" not in run.stdout


@pytest.mark.parametrize("ci", [None, "", "0"])
def test_a_browser_test_is_skipped_with_its_reason_elsewhere(tmp_path, ci):
    run = run_without_chromium(tmp_path, ci)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 skipped" in run.stdout
    assert re.search(r"SKIPPED .*Chromium is missing: `make test` installs it", run.stdout)
    assert "under CI=1 this fails instead of skipping" in run.stdout


def test_ci_runs_the_suite_with_ci_set():
    script = (ROOT / ".ci" / "run").read_text()
    exported = script.find("\nexport CI=1\n")
    assert exported != -1
    assert exported < script.find("make test\n")  # before the first run of the suite


def test_no_browser_test_skips_on_its_own_when_chromium_is_missing():
    """Every browser test gets Chromium from the `browser` fixture, which decides: a module's
    own `skipif(CHROMIUM is None)` would skip in CI too."""
    own_skips = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "tests").rglob("*.py")
        if path.name != Path(__file__).name
        and re.search(r"skip\w*\(\s*CHROMIUM|CHROMIUM is None", path.read_text())
        and path.name != "browser.py"
    ]
    assert own_skips == []

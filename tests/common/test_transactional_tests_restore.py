"""The guard in tests/conftest.py stops a run, at collection, when a transactional test does not
restore the database (serialized_rollback). Each case collects a small test module in an inner
pytest session (pytester) whose conftest is that guard, and checks what it reports."""

import pytest

pytest_plugins = ["pytester"]

CASES = {
    "transaction without serialized_rollback": (
        "@pytest.mark.django_db(transaction=True)\ndef test_it(): pass",
        True,
    ),
    "transaction by position without serialized_rollback": (
        "@pytest.mark.django_db(True)\ndef test_it(): pass",
        True,
    ),
    "transaction with serialized_rollback": (
        "@pytest.mark.django_db(transaction=True, serialized_rollback=True)\ndef test_it(): pass",
        False,
    ),
    "live_server through a fixture, no mark": (
        "@pytest.fixture\ndef site(live_server): return live_server\n\ndef test_it(site): pass",
        True,
    ),
    "module pytestmark with serialized_rollback": (
        "pytestmark = pytest.mark.django_db(serialized_rollback=True)\n\n"
        "def test_it(live_server): pass",
        False,
    ),
    "the test's own mark overrides the module's": (
        "pytestmark = pytest.mark.django_db(serialized_rollback=True)\n\n"
        "@pytest.mark.django_db(transaction=True)\ndef test_it(): pass",
        True,
    ),
    "a plain db test": ("def test_it(db): pass", False),
    "a TransactionTestCase without serialized_rollback": (
        "from django.test import TransactionTestCase\n\n"
        "class TestIt(TransactionTestCase):\n    def test_it(self): pass",
        True,
    ),
}


@pytest.mark.parametrize(("source", "reported"), CASES.values(), ids=CASES.keys())
def test_the_guard_reports_exactly_the_tests_that_do_not_restore(pytester, source, reported):
    # The inner session runs in this process: pytest-django finds tests.settings in the
    # DJANGO_SETTINGS_MODULE it set for this run, and its conftest is our guard, imported.
    pytester.makeconftest("from tests.conftest import pytest_collection_modifyitems  # noqa")
    pytester.makepyfile(test_sample="import pytest\n\n" + source)
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:randomly")
    if reported:
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(
            ["ERROR: these transactional tests flush*", "  test_sample.py::*"]
        )
    else:
        assert result.ret == pytest.ExitCode.OK, result.stderr.str()
        result.stdout.fnmatch_lines(["test_sample.py::*", "1 test collected*"])

"""Every transactional test restores the database (serialized_rollback=True).

A transactional test (Django's TransactionTestCase, which pytest-django uses for a test marked
`django_db(transaction=True)` or `reset_sequences=True`, or one that requests `transactional_db`,
`live_server` or `django_db_reset_sequences`, directly or through another fixture) flushes the
database when it ends. Without serialized_rollback, what the migrations made is gone (the call
the data migration seeds) and the content types come back under new ids: later tests then fail
at setup. So each one must restore it: `serialized_rollback=True` in its closest django_db mark
(pytest-django reads only that one: a test's own mark before its class's, its class's before its
module's `pytestmark`), or the `django_db_serialized_rollback` fixture; a TransactionTestCase or
LiveServerTestCase subclass `serialized_rollback = True` (its own or an ancestor's).

This reads every Python file under tests/ with `ast`, never running it; a value it cannot read
(a `transaction=` that is not a literal, `**options`) counts as transactional and unrestored.
"""

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
# Django's (and Channels') test cases that flush the database after each test.
TRANSACTIONAL_CASES = {
    "TransactionTestCase",
    "LiveServerTestCase",
    "StaticLiveServerTestCase",
    "ChannelsLiveServerTestCase",
}
# pytest-django's fixtures that make a test transactional, and the one that restores it.
TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}
SERIALIZING_FIXTURES = {"django_db_serialized_rollback"}
# validate_django_db's parameters, in order: a mark may pass them by position.
MARK_PARAMETERS = ["transaction", "reset_sequences", "databases", "serialized_rollback"]


def dotted(node: ast.expr) -> str:
    """`pytest.mark.django_db` for that expression; "" for anything but names and attributes."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def is_mark(node: ast.AST, name: str) -> bool:
    """`pytest.mark.<name>`, `mark.<name>` (with or without a call)."""
    target = node.func if isinstance(node, ast.Call) else node
    parts = dotted(target).split(".") if isinstance(target, ast.expr) else []
    return len(parts) >= 2 and parts[-1] == name and parts[-2] == "mark"


def literal(node: ast.expr | None) -> bool | None:
    """True or False for a literal (None and absent are False); None when it cannot be read."""
    if node is None:
        return False
    if isinstance(node, ast.Constant) and node.value in (True, False, None):
        return bool(node.value)
    return None


@dataclass
class DbMark:
    """One django_db mark: bare (`@pytest.mark.django_db`) or called."""

    line: int
    transactional: bool | None  # None: cannot tell
    serialized: bool | None

    @property
    def unrestored(self) -> bool:
        return self.transactional is not False and self.serialized is not True


def db_mark(node: ast.expr) -> DbMark:
    if not isinstance(node, ast.Call):
        return DbMark(node.lineno, False, False)
    given: dict[str, ast.expr | None] = dict(zip(MARK_PARAMETERS, node.args, strict=False))
    unreadable = any(isinstance(arg, ast.Starred) for arg in node.args)
    for keyword in node.keywords:
        if keyword.arg is None:  # **options
            unreadable = True
        else:
            given[keyword.arg] = keyword.value
    transaction = literal(given.get("transaction"))
    reset = literal(given.get("reset_sequences"))
    serialized = literal(given.get("serialized_rollback"))
    if unreadable:
        transaction = None if transaction is not True else True
        serialized = True if serialized is True and "serialized_rollback" in given else None
    if transaction is True or reset is True:
        transactional: bool | None = True
    elif transaction is None or reset is None:
        transactional = None
    else:
        transactional = False
    return DbMark(node.lineno, transactional, serialized)


@dataclass
class Marks:
    """The marks one level (a module, a class, a function) carries."""

    django_db: list[DbMark] = field(default_factory=list)
    usefixtures: set[str] = field(default_factory=set)

    def add(self, node: ast.expr) -> None:
        if is_mark(node, "django_db"):
            self.django_db.append(db_mark(node))
        elif is_mark(node, "usefixtures") and isinstance(node, ast.Call):
            self.usefixtures |= {
                arg.value
                for arg in node.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            }


def marks_of(decorators: Iterable[ast.expr], body: Iterable[ast.stmt] = ()) -> Marks:
    """Decorators, and a `pytestmark = mark` or `pytestmark = [marks]` in a body."""
    marks = Marks()
    for decorator in decorators:
        marks.add(decorator)
    for statement in body:
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            if any(dotted(target) == "pytestmark" for target in targets) and statement.value:
                value = statement.value
                for item in value.elts if isinstance(value, ast.List | ast.Tuple) else [value]:
                    marks.add(item)
    return marks


def requested(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The fixtures a test or fixture asks for: its parameters, and request.getfixturevalue."""
    arguments = function.args
    names = {arg.arg for arg in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "getfixturevalue"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def fixture_decorator(function: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.expr | None:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if dotted(target) in ("pytest.fixture", "fixture", "pytest_asyncio.fixture"):
            return decorator
    return None


@dataclass
class Fixture:
    where: str
    name: str
    requests: set[str]
    autouse: bool


@dataclass
class Case:
    """A class of these files, with the names of its bases."""

    where: str
    name: str
    bases: list[str]
    serialized: bool | None  # its own `serialized_rollback = ...`; None: it sets none


@dataclass
class Function:
    where: str
    name: str
    requests: set[str]
    mark: DbMark | None  # the closest django_db mark


@dataclass
class Suite:
    marks: list[tuple[str, DbMark]] = field(default_factory=list)
    fixtures: list[Fixture] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    tests: list[Function] = field(default_factory=list)


def own_setting(body: list[ast.stmt], name: str) -> bool | None:
    for statement in body:
        if isinstance(statement, ast.Assign) and any(
            dotted(target) == name for target in statement.targets
        ):
            return literal(statement.value) is True
        if isinstance(statement, ast.AnnAssign) and dotted(statement.target) == name:
            return literal(statement.value) is True
    return None


def read(path: str, source: str, suite: Suite) -> None:
    tree = ast.parse(source, filename=path)
    is_test_module = Path(path).name.startswith("test_")
    module = marks_of([], tree.body)

    for node in ast.walk(tree):
        # Wherever it is (a decorator, a pytestmark, a pytest.param's marks): a bare
        # `pytest.mark.django_db` is never transactional, so only calls matter here.
        if isinstance(node, ast.Call) and is_mark(node, "django_db"):
            suite.marks.append((path, db_mark(node)))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            decorator = fixture_decorator(node)
            if decorator is not None:
                name, autouse = node.name, False
                if isinstance(decorator, ast.Call):
                    for keyword in decorator.keywords:
                        if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                            name = str(keyword.value.value)
                        if keyword.arg == "autouse":
                            autouse = literal(keyword.value) is not False
                suite.fixtures.append(
                    Fixture(f"{path}:{node.lineno}", name, requested(node), autouse)
                )
        if isinstance(node, ast.ClassDef):
            bases = [dotted(base).split(".")[-1] for base in node.bases]
            serialized = own_setting(node.body, "serialized_rollback")
            suite.cases.append(Case(f"{path}:{node.lineno}", node.name, bases, serialized))

    if not is_test_module:
        return

    def collect(
        body: list[ast.stmt], outer: list[Marks]
    ) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, list[Marks]]]:
        for statement in body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                if statement.name.startswith("test") and fixture_decorator(statement) is None:
                    yield statement, [marks_of(statement.decorator_list), *outer]
            elif isinstance(statement, ast.ClassDef) and statement.name.startswith("Test"):
                own = marks_of(statement.decorator_list, statement.body)
                yield from collect(statement.body, [own, *outer])

    for function, levels in collect(tree.body, [module]):
        closest = next((level.django_db[0] for level in levels if level.django_db), None)
        names = requested(function).union(*(level.usefixtures for level in levels))
        suite.tests.append(Function(f"{path}:{function.lineno}", function.name, names, closest))


def closure(fixtures: list[Fixture], seeds: set[str], every: bool) -> set[str]:
    """Fixture names that request one of `seeds`, however indirectly. With `every`, a name
    counts only if each fixture so named does (a name defined twice may be either)."""
    found = set(seeds)
    while True:
        by_name: dict[str, list[bool]] = {}
        for fixture in fixtures:
            by_name.setdefault(fixture.name, []).append(bool(fixture.requests & found))
        more = {
            name for name, hits in by_name.items() if (all(hits) if every else any(hits))
        } - found
        if not more:
            return found
        found |= more


def problems(sources: dict[str, str]) -> list[str]:
    """Each transactional test (or mark, case, autouse fixture) that does not restore the
    database, as "path:line: why"; `sources` maps each file's path to its text."""
    suite = Suite()
    for path, source in sources.items():
        read(path, source, suite)
    found: list[str] = []

    for path, mark in suite.marks:
        if mark.unrestored:
            why = (
                "transaction=True (or reset_sequences=True)"
                if mark.transactional
                else "a transaction= it cannot read"
            )
            found.append(
                f"{path}:{mark.line}: django_db with {why}, without serialized_rollback=True"
            )

    transactional = closure(suite.fixtures, TRANSACTIONAL_FIXTURES, every=False)
    serializing = closure(suite.fixtures, SERIALIZING_FIXTURES, every=True)
    for fixture in suite.fixtures:
        if fixture.autouse and fixture.name in transactional and fixture.name not in serializing:
            found.append(
                f"{fixture.where}: autouse fixture {fixture.name} makes every test transactional "
                "without restoring the database (django_db_serialized_rollback)"
            )

    cases = {case.name: case for case in suite.cases}

    def case_kind(name: str, seen: frozenset[str] = frozenset()) -> tuple[bool, bool]:
        """(transactional, serialized) for a class of these files, or a Django test case."""
        if name in TRANSACTIONAL_CASES and name not in cases:
            return True, False
        case = cases.get(name)
        if case is None or name in seen:
            return False, False
        kinds = [case_kind(base, seen | {name}) for base in case.bases]
        transactional = any(kind[0] for kind in kinds) or name in TRANSACTIONAL_CASES
        inherited = any(kind[1] for kind in kinds)
        return transactional, case.serialized if case.serialized is not None else inherited

    for case in suite.cases:
        is_transactional, serialized = case_kind(case.name)
        if is_transactional and not serialized:
            found.append(
                f"{case.where}: {case.name} is a TransactionTestCase without "
                "serialized_rollback = True"
            )

    for test in suite.tests:
        if test.mark is not None and test.mark.unrestored:
            continue  # said above, at the mark
        by_fixture = sorted(test.requests & transactional)
        marked = test.mark is not None and test.mark.transactional is not False
        restored = (test.mark is not None and test.mark.serialized is True) or bool(
            test.requests & serializing
        )
        if (by_fixture or marked) and not restored:
            how = f"it requests {', '.join(by_fixture)}" if by_fixture else "its mark"
            found.append(
                f"{test.where}: {test.name} is transactional ({how}) but its closest "
                "django_db mark lacks serialized_rollback=True"
            )
    return sorted(set(found), key=place)


def place(problem: str) -> tuple[str, int]:
    path, line, _ = problem.split(":", 2)
    return path, int(line)


def the_suites_sources() -> dict[str, str]:
    root = TESTS.parent
    return {
        str(path.relative_to(root)): path.read_text(encoding="utf-8")
        for path in sorted(TESTS.rglob("*.py"))
    }


def test_every_transactional_test_restores_the_database():
    sources = the_suites_sources()
    assert len(sources) > 50  # it read the suite
    assert problems(sources) == []


def test_the_suites_browser_tests_are_seen_as_transactional_and_restored():
    """It is not blind: the suite's live_server tests count as transactional, and pass only
    because their module's mark restores the database."""
    suite = Suite()
    for path, source in the_suites_sources().items():
        read(path, source, suite)
    live = [test for test in suite.tests if "live_server" in test.requests]
    assert live, "no test requests live_server any more: is this checker still reading them?"
    assert all(test.mark is not None and test.mark.serialized for test in live)
    assert "people" in closure(suite.fixtures, TRANSACTIONAL_FIXTURES, every=False)


# --- The checker, on samples -----------------------------------------------------------------

BAD = {
    "tests/a/test_marks.py": """
import pytest
from pytest import mark

@pytest.mark.django_db(transaction=True)
def test_marked(): ...

@mark.django_db(True)
def test_by_position(): ...

@pytest.mark.django_db(reset_sequences=True)
def test_reset(): ...

@pytest.mark.django_db(transaction=True, serialized_rollback=False)
def test_said_no(): ...

@pytest.mark.django_db(transaction=SOMETHING)
def test_unreadable(): ...

@pytest.mark.parametrize("n", [pytest.param(1, marks=pytest.mark.django_db(transaction=True))])
def test_param(n): ...
""",
    "tests/a/test_module.py": """
import pytest
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

def test_one(): ...
""",
    "tests/a/test_module_single.py": """
import pytest
pytestmark = pytest.mark.django_db(transaction=True, databases=["default"])
""",
    "tests/a/test_cases.py": """
from django.test import LiveServerTestCase, TransactionTestCase
import django.test
from django.contrib.staticfiles.testing import StaticLiveServerTestCase

class Plain(TransactionTestCase):
    pass

class Live(LiveServerTestCase):
    serialized_rollback = False

class Dotted(django.test.TransactionTestCase):
    reset_sequences = True

class Static(StaticLiveServerTestCase):
    pass

class Grandchild(Plain):
    pass
""",
    "tests/a/test_child_elsewhere.py": """
from .test_cases import Plain

class FarChild(Plain):
    def test_x(self): ...
""",
    "tests/a/conftest.py": """
import pytest

@pytest.fixture
def site(live_server, settings):
    return live_server

@pytest.fixture(name="site_again")
def _site(site):
    return site

@pytest.fixture(autouse=True)
def everywhere(transactional_db): ...

@pytest.fixture
def dynamic(request):
    return request.getfixturevalue("live_server")
""",
    "tests/a/test_fixtures.py": """
import pytest

def test_live(live_server): ...

def test_transactional_db(transactional_db): ...

def test_reset_fixture(django_db_reset_sequences): ...

def test_through_a_fixture(site): ...

def test_through_two(site_again): ...

def test_dynamic(dynamic): ...

@pytest.mark.usefixtures("live_server")
def test_used(): ...

@pytest.mark.django_db
def test_plain_mark_with_live(live_server): ...

class TestGrouped:
    def test_in_class(self, live_server): ...
""",
    "tests/a/test_overridden.py": """
import pytest
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# The function's own mark is the closest: the module's serialized_rollback no longer applies.
@pytest.mark.django_db(databases=["default"])
def test_overrides_the_module(live_server): ...

@pytest.mark.django_db
class TestClassOverrides:
    def test_in_class(self, site): ...
""",
}

GOOD = {
    "tests/b/test_marks.py": """
import pytest

@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_marked(): ...

@pytest.mark.django_db(True, False, None, True)
def test_by_position(): ...

@pytest.mark.django_db
def test_plain(): ...

@pytest.mark.django_db(databases=["default"])
def test_databases(db): ...

@pytest.mark.django_db(transaction=False)
def test_not(): ...

def test_no_db(): ...
""",
    "tests/b/test_module.py": """
import pytest
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

@pytest.fixture
def people(browser, live_server, settings):
    return live_server

def sign_in(browser, live_server):  # a helper, not a test nor a fixture
    return live_server.url

def test_live(live_server): ...

def test_people(people): ...

class TestGrouped:
    def test_in_class(self, live_server): ...
""",
    "tests/b/test_class_mark.py": """
import pytest

@pytest.mark.django_db(transaction=True, serialized_rollback=True)
class TestMarked:
    def test_live(self, live_server): ...

class TestPytestmark:
    pytestmark = [pytest.mark.django_db(serialized_rollback=True)]

    def test_live(self, live_server): ...
""",
    "tests/b/test_serializing_fixture.py": """
import pytest

@pytest.fixture
def restored(django_db_serialized_rollback): ...

def test_live(live_server, django_db_serialized_rollback): ...

def test_live_via(transactional_db, restored): ...

@pytest.mark.usefixtures("live_server", "django_db_serialized_rollback")
def test_used(): ...
""",
    "tests/b/test_cases.py": """
from django.test import LiveServerTestCase, TestCase, TransactionTestCase

class Restored(TransactionTestCase):
    serialized_rollback = True

class Live(LiveServerTestCase):
    serialized_rollback: bool = True

class Child(Restored):
    def test_x(self): ...

class Fast(TestCase):
    def test_y(self): ...
""",
    "tests/b/conftest.py": """
import pytest

@pytest.fixture(autouse=True)
def everywhere(transactional_db, django_db_serialized_rollback): ...

@pytest.fixture(autouse=True)
def plain(settings): ...
""",
}


def test_the_checker_finds_each_kind_of_unrestored_transactional_test():
    found = problems(BAD)
    expected = [
        "tests/a/test_marks.py:5:",  # transaction=True
        "tests/a/test_marks.py:8:",  # by position
        "tests/a/test_marks.py:11:",  # reset_sequences=True
        "tests/a/test_marks.py:14:",  # serialized_rollback=False
        "tests/a/test_marks.py:17:",  # transaction= not a literal
        "tests/a/test_marks.py:20:",  # in pytest.param
        "tests/a/test_module.py:3:",
        "tests/a/test_module_single.py:3:",
        "tests/a/test_cases.py:6: Plain",
        "tests/a/test_cases.py:9: Live",
        "tests/a/test_cases.py:12: Dotted",
        "tests/a/test_cases.py:15: Static",
        "tests/a/test_cases.py:18: Grandchild",
        "tests/a/test_child_elsewhere.py:4: FarChild",
        "tests/a/conftest.py:13: autouse fixture everywhere",
        "tests/a/test_fixtures.py:4: test_live",
        "tests/a/test_fixtures.py:6: test_transactional_db",
        "tests/a/test_fixtures.py:8: test_reset_fixture",
        "tests/a/test_fixtures.py:10: test_through_a_fixture",
        "tests/a/test_fixtures.py:12: test_through_two",
        "tests/a/test_fixtures.py:14: test_dynamic",
        "tests/a/test_fixtures.py:17: test_used",
        "tests/a/test_fixtures.py:20: test_plain_mark_with_live",
        "tests/a/test_fixtures.py:23: test_in_class",
        "tests/a/test_overridden.py:7: test_overrides_the_module",
        "tests/a/test_overridden.py:11: test_in_class",
    ]
    assert [line for line in found if not any(line.startswith(e) for e in expected)] == []
    assert [e for e in expected if not any(line.startswith(e) for line in found)] == []
    assert len(found) == len(expected), found


def test_the_checker_passes_transactional_tests_that_restore_the_database():
    assert problems(GOOD) == []


def test_the_checker_names_the_file_and_line():
    source = "import pytest\n\n\n@pytest.mark.django_db(transaction=True)\ndef test_x(): ...\n"
    assert problems({"tests/x/test_y.py": source}) == [
        "tests/x/test_y.py:4: django_db with transaction=True (or reset_sequences=True), "
        "without serialized_rollback=True"
    ]


def test_the_checker_finds_a_browser_test_of_this_suite_without_serialized_rollback():
    """One of the suite's own browser modules, its mark's serialized_rollback taken out."""
    sources = the_suites_sources()
    name = "tests/review/test_admin_outcome_browser.py"
    mark = "pytest.mark.django_db(transaction=True, serialized_rollback=True)"
    assert mark in sources[name]
    sources[name] = sources[name].replace(mark, "pytest.mark.django_db(transaction=True)")
    found = problems(sources)
    assert len(found) == 1 and found[0].startswith(f"{name}:"), found
    # With no mark at all, each of its tests that requests live_server is named instead.
    sources[name] = sources[name].replace("pytest.mark.django_db(transaction=True),", "")
    found = problems(sources)
    assert found and all(f"{name}:" in line and "live_server" in line for line in found), found

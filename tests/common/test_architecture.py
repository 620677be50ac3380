"""The app's rooms and how they may lean on each other, read from the code itself.

Each room may import only the rooms listed before it in ROOMS: the journey may use the outbox,
never the review. The app's top-level modules (urls, apps), its management commands and
template tags sit above every room. No module anywhere imports a private name (one with a
leading underscore) from another module: what a room offers others is public and named for it.
Run this file alone to print the import graph between rooms:

    .venv/bin/python -m pytest tests/common/test_architecture.py -s
"""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "submissions"
# From the bottom up.
ROOMS = ["common", "models", "outbox", "exports", "journey", "publishing", "review"]
ON_TOP = {"urls", "apps", "management", "templatetags", "migrations", "__init__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported, names imported from it, line) for each import in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            names = [alias.name for alias in node.names]
            found.append((target, names, node.lineno))
            # `from . import x`: x may be a module of its own.
            found += [(f"{target}.{name}", [], node.lineno) for name in names]
    return found


def room_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "submissions" or len(parts) < 2:
        return None
    return parts[1]


def app_files() -> list[Path]:
    return sorted(p for p in APP.rglob("*.py") if "migrations" not in p.parts)


def room_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in app_files():
        here = room_of(module_name(path))
        for target, _names, _line in imports(path):
            there = room_of(target)
            if here and there and there != here and there in ROOMS:
                graph[here].add(there)
    return graph


def test_no_room_imports_a_room_above_it():
    wrong = []
    for path in app_files():
        here = room_of(module_name(path))
        if here in ON_TOP or here is None:
            continue
        assert here in ROOMS, f"{path.relative_to(ROOT)} is in no room: add it to ROOMS"
        for target, _names, line in imports(path):
            there = room_of(target)
            if there in ROOMS and ROOMS.index(there) > ROOMS.index(here):
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({here}) imports {target}")
    assert wrong == []


def test_no_module_imports_a_private_name_from_another():
    wrong = []
    for folder in ("submissions", "tests", "bench", "callforevidence"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for target, names, line in imports(path):
                private = [n for n in names if n.startswith("_") and not n.startswith("__")]
                if private:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {private} from {target}")
    assert wrong == []


def test_the_graph_between_rooms_can_be_drawn():
    graph = room_graph()
    for room in ROOMS:
        below = ", ".join(r for r in ROOMS if r in graph.get(room, set())) or "nothing"
        print(f"{room:>10} uses {below}")
    # The journey sends emails and reads the models; the review reads everything below it.
    assert {"models", "outbox"} <= graph["journey"]
    assert graph["common"] == set()

"""The house plan holds: no import circles, ivr never imports worker, rooms meet only where the README says.

Every `import` counts, including those inside functions: a circle hidden in a function still ties two
modules together. The README's "Where things are" table is the source of truth for room-to-room imports.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ivr", "speech", "menus", "recordings", "worker")
LEAVES = ("menus", "speech", "recordings")
LEAVES_FOLDERS = {f"{leaf}/" for leaf in LEAVES}
README = (ROOT / "README.md").read_text(encoding="utf-8")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.relative_to(ROOT).parts:  # Alembic loads these by path, not by import
                found[module_name(path)] = path
    return found


MODULES = project_modules()


def _nearest_module(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(name: str) -> set[str]:
    """Return the project modules `name` imports anywhere in its body."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        for target in targets:
            module = _nearest_module(target)
            if module is not None and module != name:
                found.add(module)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import circle as a path that ends where it starts, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (circle := visit(nxt)) is not None:
                return circle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (circle := visit(start)) is not None:
            return circle
    return None


def room_of(module: str) -> str:
    """Name the folder a module belongs to: `ivr/voice/`, `ivr/core/`, `worker/`, or `ivr/` for the top."""
    parts = module.split(".")
    if parts[0] == "ivr" and len(parts) > 1 and (ROOT / "ivr" / parts[1]).is_dir():
        return f"ivr/{parts[1]}/"
    return f"{parts[0]}/"


def readme_rooms() -> dict[str, set[str]]:
    """Read the "Where things are" table: each room and the rooms it may import."""
    section = README.split("## Where things are", 1)[1].split("\n## ", 1)[0]
    rooms = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and (room := re.fullmatch(r"`(ivr/\w+/)`", cells[0])):
            rooms[room.group(1)] = set(re.findall(r"`((?:ivr/\w+|\w+)/)`", cells[2]))
    return rooms


def test_the_walker_sees_imports_inside_functions_and_relative_ones() -> None:
    # ivr/app.py registers the rooms inside create_app, with imports in the function body.
    assert "ivr.voice.webhooks" in GRAPH["ivr.app"]
    assert "ivr.core.config" in GRAPH["ivr.app"]
    assert "speech.registry" in GRAPH["speech.isolated_child"]  # a relative import, resolved
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set()}) is None


def test_no_module_imports_itself_back() -> None:
    assert find_circle(GRAPH) is None


def test_ivr_never_imports_worker() -> None:
    wrong = sorted(f"{a} -> {b}" for a, deps in GRAPH.items() if a.startswith("ivr") for b in deps
                   if b.startswith("worker"))
    assert wrong == []


def test_leaf_folders_import_only_themselves() -> None:
    wrong = sorted(f"{a} -> {b}" for a, deps in GRAPH.items() if a.split(".")[0] in LEAVES for b in deps
                   if b.split(".")[0] != a.split(".")[0])
    assert wrong == []


def test_the_readme_map_matches_the_tree() -> None:
    rooms = readme_rooms()
    on_disk = {f"ivr/{p.name}/" for p in (ROOT / "ivr").iterdir() if (p / "__init__.py").is_file()}
    assert set(rooms) == on_disk


def test_rooms_import_only_what_the_readme_names() -> None:
    allowed = readme_rooms()
    wrong = []
    for module, deps in GRAPH.items():
        room = room_of(module)
        if room not in allowed:
            continue
        for dep in deps:
            target = room_of(dep)
            if target == room or target in LEAVES_FOLDERS:
                continue
            if room == "ivr/commands/" and target.startswith("ivr/"):
                continue  # the CLI drives every room, as the table says
            if target not in allowed[room]:
                wrong.append(f"{module} -> {dep}")
    assert sorted(wrong) == []



def test_the_core_imports_no_room() -> None:
    wrong = sorted(f"{a} -> {b}" for a, deps in GRAPH.items() if room_of(a) == "ivr/core/" for b in deps
                   if room_of(b) not in {"ivr/core/", *LEAVES_FOLDERS})
    assert wrong == []


def test_every_module_imports_on_its_own() -> None:
    """Import each module first in a fresh interpreter: a hidden circle shows up as a partial import."""
    script = ("import importlib, sys\n"
              "for name in sys.argv[1:]:\n"
              "    for loaded in [m for m in sys.modules if m.split('.')[0] in "
              f"{PACKAGES!r}]:\n"
              "        del sys.modules[loaded]\n"
              "    importlib.import_module(name)\n")
    names = sorted(name for name in MODULES if not name.endswith("__main__"))
    done = subprocess.run([sys.executable, "-c", script, *names], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]

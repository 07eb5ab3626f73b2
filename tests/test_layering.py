"""The pipeline's direction, checked on the imports: a module imports only from its left."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.guests import REPO

PACKAGE = REPO / "snddiag"
# collect -> evidence -> parse -> facts -> engine -> report; cli/commands/pipeline/bundle drive it.
ORDER = ["evidence", "collect", "parse", "facts", "engine", "report"]
DRIVERS = {"cli", "commands", "offline", "pipeline", "bundle", "__main__"}
HEAVY = {"rich", "pyudev", "psutil"}
COMMAND_LINE = (
    "snddiag.cli",
    "snddiag.options",
    "snddiag.usage",
    "snddiag.commands",
    "snddiag.offline",
)


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, imported at module level?) for every import in a file."""
    tree = ast.parse(path.read_text())
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in top_level))
    return found


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    return ".".join(rel.parts).removesuffix(".__init__")


def test_layers_import_only_from_their_left() -> None:
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        mine = _layer(_module_name(path))
        if mine in DRIVERS or mine not in ORDER:
            continue
        for imported, _top in _imports(path):
            if not imported.startswith("snddiag."):
                continue
            theirs = _layer(imported)
            if theirs in DRIVERS or (theirs in ORDER and ORDER.index(theirs) > ORDER.index(mine)):
                wrong.append(f"{path.relative_to(REPO)} imports {imported}")
    assert wrong == []


def test_rich_is_imported_only_by_reports() -> None:
    wrong = [
        f"{path.relative_to(REPO)} imports {imported}"
        for path in PACKAGE.rglob("*.py")
        for imported, _top in _imports(path)
        if imported.split(".")[0] == "rich" and _layer(_module_name(path)) != "report"
    ]
    assert wrong == []


def test_only_the_command_line_reads_options() -> None:
    """Everything below cli.py and the commands (commands.py, offline.py: analyze) takes plain
    arguments and returns data."""
    wrong = [
        f"{path.relative_to(REPO)} imports {imported}"
        for path in PACKAGE.rglob("*.py")
        for imported, _top in _imports(path)
        if imported == "argparse" and _module_name(path) not in COMMAND_LINE
    ]
    assert wrong == []


def test_heavy_libraries_are_imported_inside_functions() -> None:
    at_top = [
        f"{path.relative_to(REPO)} imports {imported} at module level"
        for path in PACKAGE.rglob("*.py")
        for imported, top in _imports(path)
        if imported.split(".")[0] in HEAVY and top
    ]
    assert at_top == []

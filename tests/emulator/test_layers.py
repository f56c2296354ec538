"""The emulator's two layers: calendar logic without aiohttp or asyncio, and an HTTP side with no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import calmirror.emulator

EMULATOR = Path(calmirror.emulator.__file__).parent
FORBIDDEN_IN_LOGIC = ("aiohttp", "asyncio")


def imports_of(path: Path) -> set[str]:
    """Return every module a source file imports, type-checking-only imports included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_calendar_logic_imports_no_server_or_event_loop() -> None:
    """No module of emulator/calendar imports aiohttp, asyncio or the emulator's HTTP side."""
    modules = sorted((EMULATOR / "calendar").glob("*.py"))
    assert len(modules) > 10
    for path in modules:
        for name in imports_of(path):
            root = name.split(".")[0]
            assert root not in FORBIDDEN_IN_LOGIC, f"{path.name} imports {name}"
            if name.startswith("calmirror.emulator"):
                assert name.startswith("calmirror.emulator.calendar"), f"{path.name} imports {name}"


def test_control_does_not_import_the_app() -> None:
    """Control gets the state it needs, so control.py never imports app.py (no import cycle)."""
    assert "calmirror.emulator.app" not in imports_of(EMULATOR / "control.py")

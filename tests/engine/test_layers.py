"""The engine's import rules, as docs/architecture.md states them: a pure planner, one front door."""

from __future__ import annotations

from pathlib import Path

import calmirror
import calmirror.engine
from tests.emulator.test_layers import imports_of

PACKAGE = Path(calmirror.__file__).parent
ENGINE = Path(calmirror.engine.__file__).parent
# The planner and the helpers it decides with: no I/O, no event loop, no provider.
PURE = ("model", "planner", "filters", "worktime", "cover", "offsets", "ids", "guard", "provider")
PROVIDERS = ("calmirror.google", "calmirror.caldav", "calmirror.ics", "calmirror.ical", "calmirror.microsoft")
FORBIDDEN_IN_PURE = ("asyncio", "aiohttp", "calmirror.google", "calmirror.daemon", "calmirror.engine.sync")


def test_the_planner_and_its_helpers_import_no_io() -> None:
    """The pure modules import no event loop, server, provider client or the engine's stateful side."""
    for name in PURE:
        for module in imports_of(ENGINE / f"{name}.py"):
            assert not module.startswith(FORBIDDEN_IN_PURE), f"engine/{name}.py imports {module}"


def test_no_engine_module_knows_a_provider() -> None:
    """The whole engine plans and acts through its provider protocol: it imports no provider's package."""
    modules = list(ENGINE.glob("*.py"))
    assert len(modules) > 15
    for path in modules:
        for module in imports_of(path):
            assert not module.startswith(PROVIDERS), f"engine/{path.name} imports {module}"


def test_code_outside_the_engine_imports_it_through_its_front_door() -> None:
    """Outside calmirror/engine, the engine's names come from `calmirror.engine`, never a submodule."""
    outside = [p for p in PACKAGE.rglob("*.py") if ENGINE not in p.parents]
    assert len(outside) > 50
    for path in outside:
        for module in imports_of(path):
            assert not module.startswith("calmirror.engine."), f"{path.relative_to(PACKAGE)} imports {module}"

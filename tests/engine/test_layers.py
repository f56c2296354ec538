"""The engine's import rules, as docs/architecture.md states them: a pure planner, one front door."""

from __future__ import annotations

from pathlib import Path

import calmirror
import calmirror.engine
from tests.emulator.test_layers import imports_of

PACKAGE = Path(calmirror.__file__).parent
ENGINE = Path(calmirror.engine.__file__).parent
# The planner and the helpers it decides with: no I/O, no event loop, no provider.
PURE = ("model", "planner", "filters", "worktime", "cover", "offsets", "ids", "guard", "events")
FORBIDDEN_IN_PURE = ("asyncio", "aiohttp", "calmirror.google", "calmirror.daemon", "calmirror.engine.sync")


def test_the_planner_and_its_helpers_import_no_io() -> None:
    """The pure modules import no event loop, server, provider client or the engine's stateful side."""
    for name in PURE:
        for module in imports_of(ENGINE / f"{name}.py"):
            assert not module.startswith(FORBIDDEN_IN_PURE), f"engine/{name}.py imports {module}"


def test_code_outside_the_engine_imports_it_through_its_front_door() -> None:
    """Outside calmirror/engine, the engine's names come from `calmirror.engine`, never a submodule.

    The provider protocol is the one other door: providers implement it, the engine does not re-export it.
    """
    outside = [p for p in PACKAGE.rglob("*.py") if ENGINE not in p.parents]
    assert len(outside) > 50
    for path in outside:
        for module in imports_of(path):
            inside = module.startswith("calmirror.engine.") and module != "calmirror.engine.provider"
            assert not inside, f"{path.relative_to(PACKAGE)} imports {module}"

"""The Graph emulator's layers: pure logic, the I/O in two modules, no reach into the Google emulator."""

from __future__ import annotations

from pathlib import Path

import calmirror.emulator.graph
from tests.emulator.test_layers import imports_of

GRAPH = Path(calmirror.emulator.graph.__file__).parent


def test_only_the_server_module_touches_aiohttp_or_asyncio() -> None:
    """Every module but server.py and subscriptions.py (which POSTs to listeners) is synchronous logic;
    none imports the Google emulator or msgraph."""
    modules = sorted(GRAPH.glob("*.py"))
    assert len(modules) > 8
    for path in modules:
        for name in imports_of(path):
            root = name.split(".")[0]
            if path.name not in ("server.py", "subscriptions.py"):
                assert root not in ("aiohttp", "asyncio"), f"{path.name} imports {name}"
            assert root != "msgraph", f"{path.name} imports {name} (a test-only dependency)"
            if name.startswith("calmirror.emulator"):
                assert name.startswith("calmirror.emulator.graph"), f"{path.name} imports {name}"

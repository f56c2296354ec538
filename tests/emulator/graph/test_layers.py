"""The Graph emulator's layers: pure logic, a few HTTP modules, no reach into the Google emulator."""

from __future__ import annotations

from pathlib import Path

import calmirror.emulator.graph
from tests.emulator.test_layers import imports_of

GRAPH = Path(calmirror.emulator.graph.__file__).parent
HTTP_SIDE = {"server.py", "login.py", "replies.py", "gateway.py"}
# The control plane Graph shares with the Google emulator: one fault rule list, one request log.
SHARED = ("calmirror.emulator.faults", "calmirror.emulator.requestlog")


def test_only_the_http_modules_touch_aiohttp_or_asyncio() -> None:
    """Every module but the HTTP side is synchronous logic; none imports the Google emulator or msgraph."""
    modules = sorted(GRAPH.glob("*.py"))
    assert len(modules) > 8
    for path in modules:
        for name in imports_of(path):
            root = name.split(".")[0]
            if path.name not in HTTP_SIDE:
                assert root not in ("aiohttp", "asyncio"), f"{path.name} imports {name}"
            assert root != "msgraph", f"{path.name} imports {name} (a test-only dependency)"
            if name.startswith("calmirror.emulator") and name not in SHARED:
                assert name.startswith("calmirror.emulator.graph"), f"{path.name} imports {name}"

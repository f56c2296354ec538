"""`calmirror demo` tells its story on the embedded emulator and the figures it prints are the real ones."""

from __future__ import annotations

import io
import re

from calmirror.demo import run_demo


async def test_demo_mirrors_moves_and_declines_at_the_physical_cost() -> None:
    """The demo ends healthy, mirrors the moved meeting, drops the declined one and polls for 1 read each."""
    out = io.StringIO()

    status = await run_demo(out)

    text = out.getvalue()
    steps = re.split(r"\nStep \d: ", text)
    assert status == 0
    assert len(steps) == 5
    moved, declined, idle = steps[2], steps[3], steps[4]
    assert "cost: 2 HTTP request(s) to Google: 1 read(s), 2 write(s)" in moved
    assert re.search(r"you@client\.example holds 3 block\(s\):(\n .*)*\n .*10:55-12:05 UTC", moved)
    assert "you@work.example holds 1 block(s):" in declined
    assert "cost: 2 HTTP request(s) to Google: 2 read(s), 0 write(s)" in idle

"""The webhook flood of `daemon_scale` on its own: the same ring and flood, without the minute-long poll.

For reruns of the flood figure on a shared machine, where several samples say more than one:
`python -m bench --only daemon_flood` takes about half the time of `--only daemon_scale`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.daemon_scale import scenario


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Seed 100 flows x 100 meetings, start the daemon, flood it: 3,000 notifications (quick: 4, 20, 200)."""
    if quick:
        return asyncio.run(scenario(4, 20, poll=False, notified=200))
    return [
        row for row in asyncio.run(scenario(100, 100, poll=False, notified=3_000)) if "flood" in row["case"]
    ]

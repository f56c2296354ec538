"""The daemon in-process: its cleanup awaits every task it started, even behind a hung channel stop."""

from __future__ import annotations

import asyncio

from calmirror.daemon.keys import CHANNELS
from calmirror.daemon.lifecycle import DaemonOptions
from tests.daemon.inprocess import serving_app
from tests.daemon.processes import EmulatorProcess


async def test_no_task_is_left_pending_after_cleanup_with_a_hung_channel_stop(
    emulator_process: EmulatorProcess,
) -> None:
    async with serving_app(emulator_process, DaemonOptions(channel_stop_seconds=0.5)) as (app, _):
        assert app[CHANNELS].watches  # a live channel, stopped at cleanup
        # The stop of that channel hangs past the bound, so stop_all has to cancel it.
        rule = {"kind": "timeout", "methods": ["calendar.channels.stop"], "seconds": 3, "times": 1}
        await emulator_process.control("POST", "faults", {"rules": [rule]})
    pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    assert not pending, pending

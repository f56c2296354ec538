"""The daemon in-process: its cleanup awaits every task it started, even behind a hung channel stop."""

from __future__ import annotations

import asyncio

from aiohttp import web

from calmirror.config import load_settings
from calmirror.daemon.app import begin, create_app
from calmirror.daemon.keys import CHANNELS, LIFECYCLE
from calmirror.daemon.lifecycle import DaemonOptions
from calmirror.daemon.systemd import Notifier
from tests.daemon.processes import ALICE, BOB, EmulatorProcess, daemon_env, eventually, free_port


async def test_no_task_is_left_pending_after_cleanup_with_a_hung_channel_stop(
    emulator_process: EmulatorProcess,
) -> None:
    port = free_port()
    env = daemon_env(emulator_process, [ALICE, BOB], [("alice-to-bob", ALICE, BOB)], port=port)
    settings = load_settings(env, env_file=None, credentials_directory=None)
    app = create_app(settings, DaemonOptions(channel_stop_seconds=0.5), notifier=Notifier(None))
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        begin(app)

        async def ready() -> bool:
            return app[LIFECYCLE].ready

        await eventually(ready, 30, "the daemon's first reconcile")
        assert app[CHANNELS].watches  # a live channel, stopped at cleanup
        # The stop of that channel hangs past the bound, so stop_all has to cancel it.
        rule = {"kind": "timeout", "methods": ["calendar.channels.stop"], "seconds": 3, "times": 1}
        await emulator_process.control("POST", "faults", {"rules": [rule]})
    finally:
        await runner.cleanup()
    pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    assert not pending, pending

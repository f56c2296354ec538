"""The daemon's app served in the test's own process: a real loopback port, the scheduler in reach."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from aiohttp import web

from calmirror.config import load_settings
from calmirror.daemon.app import begin, create_app
from calmirror.daemon.keys import LIFECYCLE
from calmirror.daemon.lifecycle import DaemonOptions
from calmirror.daemon.systemd import Notifier
from tests.daemon.processes import ALICE, BOB, EmulatorProcess, daemon_env, eventually, free_port


@asynccontextmanager
async def serving_app(
    emulator: EmulatorProcess, options: DaemonOptions, extra: Mapping[str, str] | None = None
) -> AsyncIterator[tuple[web.Application, str]]:
    """Serve flow "work" (alice into bob, webhooks on) as `calmirror run` does, until its first reconcile.

    `extra` adds variables (more accounts and flows). Yields the app and its base URL; on exit the
    app's cleanup runs, as on SIGTERM.
    """
    port = free_port()
    env = daemon_env(emulator, [ALICE, BOB], [("work", ALICE, BOB)], port=port, extra=extra)
    settings = load_settings(env, env_file=None, credentials_directory=None)
    app = create_app(settings, options, notifier=Notifier(None))
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        begin(app)

        async def ready() -> bool:
            return app[LIFECYCLE].ready

        await eventually(ready, 30, "the daemon's first reconcile")
        yield app, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()

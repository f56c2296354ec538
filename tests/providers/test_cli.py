"""`calmirror sync` processes writing into a CalDAV target, at once or killed mid-run, never duplicate."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from harness.davproxy import Fault
from harness.processes import eventually
from tests.engine.conftest import base_time
from tests.engine.test_cli_sync import calmirror, environment_of
from tests.providers.conftest import GOOGLE, MakeMixed, Mixed
from tests.providers.dav import Span

pytestmark = pytest.mark.slow

FLOWS = [("to caldav", (1, GOOGLE[1]), (3, "b"), 10, 5), ("caldav to caldav", (4, "a"), (3, "b"), 0, 0)]
SYNC_ARGS = ("sync", "--days-back", "1", "--days-forward", "5")


def environment(world: Mixed) -> dict[str, str]:
    """Return the environment a user would configure: the Google accounts, CalDAV account 3 and 4, flows."""
    env = environment_of(world.emulator, world.settings)
    env = {k: v for k, v in env.items() if not k.startswith(("CALDAV_", "ICS_"))}
    for n, account in world.settings.caldav_accounts.items():
        prefix = f"CALDAV_ACCOUNT_{n}_"
        env |= {
            prefix + "URL": account.url,
            prefix + "USERNAME": account.username,
            prefix + "PASSWORD": account.password.get_secret_value(),
            prefix + "EMAIL": account.email or "",
        }
    return env


async def meetings(world: Mixed) -> list[Span]:
    """Put three meetings in Google and two in CalDAV calendar "a"; return the blocks they want in "b"."""
    t = base_time()
    wanted = []
    for n in range(3):
        start = t + timedelta(hours=2 * n)
        await world.put_meeting(1, GOOGLE[1], f"g{n}", start)
        wanted.append((False, start - timedelta(minutes=10), start + timedelta(minutes=65)))
    for n in range(2):
        start = t + timedelta(days=1, hours=2 * n)
        await world.put_meeting(4, "a", f"d{n}", start)
        wanted.append((False, start, start + timedelta(hours=1)))
    return sorted(wanted)


async def test_two_sync_processes_at_once_make_no_duplicate(make_mixed: MakeMixed, tmp_path: Path) -> None:
    """Both processes plan the same creates; the second of each pair finds the block and stops there."""
    world = await make_mixed(FLOWS)
    wanted = await meetings(world)
    env = environment(world)

    results = await asyncio.gather(calmirror(env, tmp_path, *SYNC_ARGS), calmirror(env, tmp_path, *SYNC_ARGS))

    assert [code for code, _out, _err in results] == [0, 0], results
    assert await world.dav_spans("b") == wanted
    assert env["CALDAV_ACCOUNT_3_PASSWORD"] not in "".join(out + err for _code, out, err in results)


async def test_a_sync_killed_mid_write_is_finished_by_the_next(make_mixed: MakeMixed, tmp_path: Path) -> None:
    """A process killed while its PUTs hang (carried out, never answered) leaves what the next run repairs."""
    world = await make_mixed(FLOWS)
    wanted = await meetings(world)
    env = environment(world)
    world.proxy.inject(Fault(method="PUT", forward=True, hang=True, times=None))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "calmirror", *SYNC_ARGS, env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip

    async def two_puts() -> bool:
        """Tell whether two PUTs reached the proxy."""
        return world.proxy.count("PUT") >= 2  # at least two creates are carried out and waiting

    try:
        await eventually(two_puts, 60, "two PUTs")
    finally:
        process.kill()
        await process.wait()
    assert 2 <= len(await world.dav_spans("b")) < len(wanted)
    world.proxy.clear()

    code, out, err = await calmirror(env, tmp_path, *SYNC_ARGS)

    assert code == 0, err
    assert await world.dav_spans("b") == wanted
    assert env["CALDAV_ACCOUNT_3_PASSWORD"] not in out + err

"""`calmirror sync` and `calmirror purge` as real subprocesses against an in-process emulator."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

from tests.engine.conftest import EMAILS, MakeWorld, World, base_time

FLOWS = (("work", 1, 2, 10, 5), ("home", 3, 2, 0, 0))


def environment(world: World) -> dict[str, str]:
    """Return the environment a user would configure for the world's accounts and flows."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "SYNC_FLOW_"))}
    env |= {"GOOGLE_API_ROOT_URL": world.emulator.api_root, "GOOGLE_TOKEN_URI": world.emulator.token_uri}
    for account in world.settings.accounts.values():
        prefix = f"GOOGLE_ACCOUNT_{account.id}_"
        env |= {
            prefix + "EMAIL": account.email,
            prefix + "CLIENT_ID": account.client_id,
            prefix + "CLIENT_SECRET": account.client_secret.get_secret_value(),
            prefix + "REFRESH_TOKEN": account.refresh_token.get_secret_value(),
        }
    for flow in world.settings.flows:
        prefix = f"SYNC_FLOW_{flow.id}_"
        env |= {
            prefix + "NAME": flow.name,
            prefix + "SOURCE_ACCOUNT_ID": str(flow.source.account_id),
            prefix + "SOURCE_CALENDAR_ID": flow.source.calendar_id,
            prefix + "TARGET_ACCOUNT_ID": str(flow.target.account_id),
            prefix + "TARGET_CALENDAR_ID": flow.target.calendar_id,
            prefix + "START_OFFSET": str(flow.start_offset),
            prefix + "END_OFFSET": str(flow.end_offset),
        }
    return env


async def calmirror(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str, str]:
    """Run `python -m calmirror ARGS` without blocking the loop the emulator serves on."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "calmirror",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def row(output: str, flow: str) -> list[str]:
    """Return the table row of one flow, split into cells."""
    [line] = [line for line in output.splitlines() if line.split()[:1] == [flow]]
    return line.split()


async def test_sync_mirrors_and_prints_a_table(make_world: MakeWorld, tmp_path: Path) -> None:
    """A dry run writes nothing; the real run creates the blocks; both print the per-flow table and exit 0."""
    world = make_world(FLOWS)
    await world.meeting(1, base_time())
    await world.meeting(3, base_time() + timedelta(hours=2))
    env = environment(world)
    world.emulator.reset_requests()

    code, out, err = await calmirror(
        env, tmp_path, "sync", "--days-back", "1", "--days-forward", "3", "--dry-run"
    )
    assert code == 0, err
    assert row(out, "work")[:2] == ["work", "1"]
    assert world.writes() == 0

    code, out, err = await calmirror(env, tmp_path, "sync", "--days-back", "1", "--days-forward", "3")
    assert code == 0, err
    assert row(out, "work") == ["work", "1", "0", "0", "0", "0", "0", "0", "ok"]
    assert row(out, "home")[1] == "1"
    assert len(world.blocks(2)) == 2
    assert env["GOOGLE_ACCOUNT_1_REFRESH_TOKEN"] not in out + err


async def test_sync_window_excludes_later_meetings(make_world: MakeWorld, tmp_path: Path) -> None:
    """--days-forward bounds the window: a meeting beyond it gets no block."""
    world = make_world(FLOWS)
    await world.meeting(1, base_time() + timedelta(days=5))

    code, _out, err = await calmirror(
        environment(world), tmp_path, "sync", "--days-back", "0", "--days-forward", "2"
    )

    assert code == 0, err
    assert world.blocks(2) == []


async def test_broken_account_fails_its_flow_only(make_world: MakeWorld, tmp_path: Path) -> None:
    """A revoked source account makes its flow fail and the exit status 1; the other flow still mirrors."""
    world = make_world(FLOWS)
    await world.meeting(1, base_time())
    world.emulator.revoke(EMAILS[3])

    code, out, _err = await calmirror(
        environment(world), tmp_path, "sync", "--days-back", "1", "--days-forward", "3"
    )

    assert code == 1
    assert row(out, "work")[-1] == "ok"
    assert row(out, "home")[-1] == "error"
    assert len(world.blocks(2)) == 1


async def test_bad_configuration_exits_2(make_world: MakeWorld, tmp_path: Path) -> None:
    """A flow naming an unconfigured account is reported by variable and nothing runs."""
    world = make_world(FLOWS)
    env = environment(world) | {"SYNC_FLOW_2_TARGET_ACCOUNT_ID": "7"}

    code, _, err = await calmirror(env, tmp_path, "sync", "--days-back", "1", "--days-forward", "3")

    assert code == 2
    assert "SYNC_FLOW_2_TARGET_ACCOUNT_ID" in err


async def test_purge_removes_only_blocks(make_world: MakeWorld, tmp_path: Path) -> None:
    """Purge (after a dry run that removes nothing) deletes every block, far ones too, and nothing else."""
    world = make_world(FLOWS)
    await world.meeting(1, base_time())
    await world.meeting(1, base_time() + timedelta(days=30))
    await world.meeting(2, base_time() + timedelta(hours=4))  # bob's own meeting stays
    env = environment(world)
    code, _, err = await calmirror(env, tmp_path, "sync", "--days-back", "1", "--days-forward", "40")
    assert code == 0, err
    assert len(world.blocks(2)) == 2
    others = [e for e in world.live(2) if e not in world.blocks(2)]

    code, out, err = await calmirror(env, tmp_path, "purge", "--dry-run")
    assert code == 0, err
    assert "would remove 2 block(s)" in out
    assert len(world.blocks(2)) == 2

    code, out, err = await calmirror(env, tmp_path, "purge", "--flow", "work")
    assert code == 0, err
    assert "removed 2 block(s)" in out
    assert world.blocks(2) == []
    assert world.live(2) == others
    assert len(world.live(1)) == 2


async def test_purge_of_a_broken_account_fails_its_target_only(make_world: MakeWorld, tmp_path: Path) -> None:
    """A revoked target account makes purge exit 1 naming that target; the other target is still purged."""
    world = make_world((("work", 1, 2, 0, 0), ("back", 2, 1, 0, 0)))
    await world.meeting(1, base_time())
    await world.meeting(2, base_time() + timedelta(hours=3))
    await world.engine.reconcile_all()
    assert (len(world.blocks(1)), len(world.blocks(2))) == (1, 1)
    world.emulator.revoke(EMAILS[1])

    code, out, _err = await calmirror(environment(world), tmp_path, "purge")

    assert code == 1
    assert f"failed 1:{EMAILS[1]}: listing failed" in out
    assert world.blocks(2) == []
    assert len(world.blocks(1)) == 1

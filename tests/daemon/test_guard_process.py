"""The deletion guard as real processes: the daemon holds a mass deletion, says so everywhere a person
looks, and lets go by itself once `calmirror sync --allow-mass-deletion` has carried it out."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.processes import (
    ALICE,
    BOB,
    DaemonProcess,
    EmulatorProcess,
    blocks,
    daemon_env,
    eventually,
    free_port,
    meeting_body,
    next_hour,
    running_daemon,
)
from tests.daemon.test_health_process import gauge, health_when

pytestmark = pytest.mark.slow
FIX = "look with `calmirror sync --dry-run`, then run `calmirror sync --allow-mass-deletion`"
TARGET = f"2:{BOB}"


async def calmirror(env: Mapping[str, str], cwd: Path, *args: str) -> tuple[int, str]:
    """Run `python -m calmirror ARGS` as a person would, and return its exit status and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "calmirror",
        *args,
        env=dict(env),
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def guard_gauge(daemon: DaemonProcess) -> float:
    """Return calmirror_deletions_held{target=bob, reason=guard}."""
    return (await gauge(daemon, "calmirror_deletions_held"))[(("reason", "guard"), ("target", TARGET))]


async def lose_notifications(emulator: EmulatorProcess) -> None:
    """Drop every notification of alice's calendar until the faults are cleared: the daemon sees nothing."""
    drop = {"kind": "push_drop", "methods": ["calendar.events.watch"], "accounts": [ALICE]}
    await emulator.control("POST", "faults", {"rules": [drop]})


async def held(daemon: DaemonProcess, count: int) -> tuple[int, dict[str, Any]]:
    """Wait until /health shows `count` deletions held in bob's calendar, and return its answer then."""
    seen: list[tuple[int, dict[str, Any]]] = []

    async def reached() -> bool:
        seen.append(await daemon.health())
        return any(t["deletions_held"]["count"] == count for t in seen[-1][1]["targets"])

    await eventually(reached, 20, f"{count} deletions held in /health")
    return seen[-1]


def guard_warnings(daemon: DaemonProcess) -> list[str]:
    """Return the daemon's WARNING lines about the deletion guard."""
    return [line for line in daemon.lines if "WARNING" in line and "deletion guard" in line]


async def test_a_mass_cancellation_is_held_until_a_person_allows_it(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    """40 mirrored meetings, 30 cancelled at once: nothing deleted, 503 `fail` naming target, count and
    fix, the gauge at 30, one WARNING per pass; the command deletes exactly the 30; the next pass releases."""
    env = daemon_env(emulator_process, [ALICE, BOB], [("work", ALICE, BOB)], port=free_port())
    alice = emulator_process.client(ALICE)
    try:
        meetings = [await alice.insert_event(ALICE, meeting_body(next_hour(hours=n), 30)) for n in range(40)]
        await lose_notifications(emulator_process)
        async with running_daemon(env) as daemon:
            assert len(await blocks(emulator_process)) == 40
            for meeting in meetings[:30]:
                await alice.delete_event(ALICE, meeting["id"])
            # One notification: its pass is the first to see the cancellations, all 30 at once.
            await emulator_process.control("DELETE", "faults")
            await alice.insert_event(ALICE, meeting_body(next_hour(days=5), 30))  # a creation still happens

            code, body = await held(daemon, 30)
            assert (code, body["status"]) == (503, "fail")
            (problem,) = body["problems"]
            assert problem == f"target {TARGET}: 30 deletion(s) held by the deletion guard; fix: {FIX}"
            (target,) = body["targets"]
            assert target["fix"] == FIX
            assert target["deletions_held"] == {"count": 30, "reasons": ["guard"], "because_of": []}
            assert await guard_gauge(daemon) == 30.0
            assert len(await blocks(emulator_process)) == 41  # none deleted, the new one created
            warnings = guard_warnings(daemon)
            held_passes = [
                line for line in daemon.lines if "reconcile trigger=" in line and "deletes=0" in line
            ]
            assert 1 <= len(warnings) <= len(held_passes), daemon.output
            assert f"30 deletion(s) in target {TARGET} held, none made; {FIX}" in warnings[-1]

            code, out = await calmirror(env, tmp_path, "sync", "--dry-run")
            assert code == 1, out
            assert len([line for line in out.splitlines() if line.startswith("hold ")]) == 30, out
            code, out = await calmirror(env, tmp_path, "sync", "--allow-mass-deletion")
            assert code == 0, out
            kept = sorted((m["start"]["dateTime"], m["end"]["dateTime"]) for m in meetings[30:])
            left = await blocks(emulator_process)
            assert len(left) == 11
            assert set(kept) <= {(start, end) for start, end in left}

            # Any later pass reads the target again and finds nothing left to hold.
            await alice.insert_event(ALICE, meeting_body(next_hour(days=6), 30))
            code, body = await health_when(daemon, "pass", "/health passing once the hold is gone")
            assert code == 200
            assert await guard_gauge(daemon) == 0.0
            assert body["targets"] == [
                {"target": TARGET, "deletions_held": {"count": 0, "reasons": [], "because_of": []}}
            ]
    finally:
        await alice.aclose()


async def test_the_hold_lets_go_when_the_meetings_come_back(emulator_process: EmulatorProcess) -> None:
    """A source that lists too little for one pass (30 of 40 gone) and then everything again: the daemon
    holds, then releases by itself, never having deleted a block."""
    env = daemon_env(emulator_process, [ALICE, BOB], [("work", ALICE, BOB)], port=free_port())
    alice = emulator_process.client(ALICE)
    try:
        bodies = [meeting_body(next_hour(hours=n), 30) for n in range(40)]
        meetings = [await alice.insert_event(ALICE, body) for body in bodies]
        await lose_notifications(emulator_process)
        async with running_daemon(env) as daemon:
            for meeting in meetings[:30]:
                await alice.delete_event(ALICE, meeting["id"])
            await emulator_process.control("DELETE", "faults")
            await alice.insert_event(ALICE, meeting_body(next_hour(days=5), 30))
            await held(daemon, 30)

            await lose_notifications(emulator_process)
            for body in bodies[:30]:  # the meetings come back, again noticed by one pass
                await alice.insert_event(ALICE, body)
            await emulator_process.control("DELETE", "faults")
            await alice.insert_event(ALICE, meeting_body(next_hour(days=6), 30))

            async def released() -> bool:
                return await guard_gauge(daemon) == 0.0

            await eventually(released, 20, "the hold released")
            assert (await daemon.health())[0] == 200
            assert len(await blocks(emulator_process)) == 42
            assert not [
                line for line in daemon.lines if "reconcile trigger=" in line and "deletes=0" not in line
            ]
    finally:
        await alice.aclose()

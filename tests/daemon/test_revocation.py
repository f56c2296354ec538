"""A revoked account, as real processes: /health names it and its fix, the other flow keeps mirroring."""

from __future__ import annotations

from typing import Any

import pytest

from tests.daemon.processes import (
    ALICE,
    BOB,
    CAROL,
    DaemonProcess,
    EmulatorProcess,
    block_starts,
    daemon_env,
    eventually,
    free_port,
    meeting_body,
    next_hour,
    running_daemon,
)

pytestmark = pytest.mark.slow


async def revoked_health(daemon: DaemonProcess) -> dict[str, Any] | None:
    """Return /health's body once it is 503 because an account needs re-authorisation, else None."""
    status, body = await daemon.health()
    revoked = [a for a in body["accounts"] if a["state"] != "ok"]
    return body if status == 503 and revoked else None


async def test_revoked_account_is_named_in_health_while_the_other_flow_keeps_mirroring(
    emulator_process: EmulatorProcess,
) -> None:
    """carol (account 3) is revoked: 503 naming her and `calmirror authorize`; alice's webhooks still work."""
    flows = [("work", ALICE, BOB), ("side", CAROL, BOB)]
    env = daemon_env(emulator_process, [ALICE, BOB, CAROL], flows, port=free_port())
    alice = emulator_process.client(ALICE)
    try:
        async with running_daemon(env) as daemon:
            assert (await daemon.health())[0] == 200
            await emulator_process.control("POST", f"accounts/{CAROL}/revoke")
            first = next_hour(days=1)
            await alice.insert_event(ALICE, meeting_body(first, guest=CAROL))  # notifies carol's channel too

            async def noticed() -> bool:
                return await revoked_health(daemon) is not None

            await eventually(noticed, what="/health reporting carol's revoked grant")
            body = await revoked_health(daemon)
            assert body is not None
            (revoked,) = [a for a in body["accounts"] if a["state"] != "ok"]
            assert revoked["id"] == 3
            assert revoked["email"] == CAROL
            assert revoked["state"] == "needs_reauth"
            assert "invalid_grant" in revoked["error"]
            assert "calmirror authorize" in revoked["fix"]
            assert any(line.startswith("account 3 needs new credentials; fix: ") for line in body["problems"])

            second = next_hour(days=2)
            await alice.insert_event(ALICE, meeting_body(second))

            async def both_mirrored() -> bool:
                return await block_starts(emulator_process) == [first, second]

            await eventually(both_mirrored, what="alice's meetings mirrored into bob by webhook")
            flows_by_name = {f["name"]: f for f in (await daemon.health())[1]["flows"]}
            assert flows_by_name["work"]["state"] == "ok"
            assert flows_by_name["side"]["last_error"] == "needs_reauth"
    finally:
        await alice.aclose()

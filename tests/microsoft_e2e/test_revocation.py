"""A revoked Microsoft account, as real processes: only its flow stops, /health names it and the fix."""

from __future__ import annotations

from typing import Any

import pytest

from harness.processes import (
    DaemonProcess,
    EmulatorProcess,
    daemon_env,
    eventually,
    free_port,
    running_daemon,
)
from tests.daemon.processes import meeting_body
from tests.microsoft_e2e.rig import BOB, CAROL, DAVE, MIA, google_blocks, hour

pytestmark = pytest.mark.slow


def secrets_of(emulator: EmulatorProcess) -> list[str]:
    """Every client secret and refresh token the emulator handed out."""
    google = [creds[k] for creds in emulator.accounts.values() for k in ("client_secret", "refresh_token")]
    graph = emulator.microsoft["accounts"].values()
    return [*google, *(creds[k] for creds in graph for k in ("client_secret", "refresh_token"))]


async def needs_reauth(daemon: DaemonProcess) -> dict[str, Any] | None:
    """/health's body once it answers 503 for an account that needs a person, else None."""
    status, body = await daemon.health()
    return body if status == 503 and any(a["state"] != "ok" for a in body["accounts"]) else None


async def test_a_revoked_microsoft_account_stops_only_its_flow_and_health_says_how_to_fix_it(
    emulator: EmulatorProcess,
) -> None:
    """mia's grant is revoked: /health names her and `calmirror authorize --provider microsoft`."""
    flows = [("outlook", MIA, BOB), ("gmail", CAROL, DAVE)]
    env = daemon_env(emulator, [CAROL, DAVE, BOB], flows, port=free_port(), microsoft=[MIA])
    carol = emulator.client(CAROL)
    try:
        async with running_daemon(env) as daemon:
            assert (await daemon.health())[0] == 200
            await emulator.control(
                "POST", f"accounts/{MIA}/revoke"
            )  # Graph tells of the removed subscription

            async def noticed() -> bool:
                return await needs_reauth(daemon) is not None

            await eventually(noticed, 20, "/health reporting mia's revoked grant")
            body = await needs_reauth(daemon)
            assert body is not None
            (revoked,) = [a for a in body["accounts"] if a["state"] != "ok"]
            assert (revoked["id"], revoked["email"], revoked["state"]) == (4, MIA, "needs_reauth")
            assert "calmirror authorize --provider microsoft" in revoked["fix"]

            start = hour(1)
            await carol.insert_event(CAROL, meeting_body(start, organizer=CAROL))

            async def mirrored() -> bool:
                return [s for s, _ in await google_blocks(emulator, DAVE)] == [start]

            await eventually(mirrored, 20, "carol's meeting mirrored into dave by webhook")
            _, text, _ = await daemon.get("/health")
            flows_by_name = {f["name"]: f for f in (await daemon.health())[1]["flows"]}
            assert flows_by_name["gmail"]["state"] == "ok"
            outlook = flows_by_name["outlook"]
            assert outlook["channel_expires"] == "polling only"
            assert outlook["polling_reason"] == "account 4 needs re-authorisation (invalid_grant)"
            leaked = [s for s in secrets_of(emulator) if s in text or s in daemon.output]
            assert leaked == []
    finally:
        await carol.aclose()

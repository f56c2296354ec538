"""The daemon at LOG_LEVEL=DEBUG through faults and a revocation: no secret in its output or endpoints."""

from __future__ import annotations

import asyncio

import pytest

from tests.daemon.processes import (
    ALICE,
    BOB,
    CAROL,
    WEBHOOK_KEY,
    EmulatorProcess,
    daemon_env,
    eventually,
    free_port,
    meeting_body,
    next_hour,
    running_daemon,
)

pytestmark = pytest.mark.slow

# Every access token the emulator issues starts "ya29.", every refresh token "1//0", every secret "GOCSPX-".
TOKEN_SHAPES = ("ya29.", "1//0", "GOCSPX-")
FAULTS = [
    {"kind": "status", "status": 503, "methods": ["calendar.events.list"], "times": 2},
    {"kind": "status", "status": 429, "methods": ["calendar.events.list"], "times": 1},
    {"kind": "lost_response", "methods": ["calendar.events.insert"], "times": 1},
    {"kind": "status", "status": 500, "methods": ["batch"], "times": 1},
    {"kind": "status", "status": 503, "methods": ["oauth2.token"], "times": 1},
]
ENDPOINTS = ("/health", "/api/v1/calendar/health", "/api/v1/calendar/stats", "/metrics")


async def test_no_secret_reaches_the_output_health_stats_or_metrics_at_debug_through_faults(
    emulator_process: EmulatorProcess,
) -> None:
    """Client secrets, refresh and access tokens, the webhook key and channel tokens never show."""
    flows = [("work", ALICE, BOB), ("side", CAROL, BOB)]
    env = daemon_env(
        emulator_process, [ALICE, BOB, CAROL], flows, port=free_port(), extra={"LOG_LEVEL": "DEBUG"}
    )
    await emulator_process.control("POST", "faults", {"rules": FAULTS})
    alice = emulator_process.client(ALICE)
    shown: list[str] = []
    try:
        async with running_daemon(env) as daemon:
            channel_tokens = [c["token"] for c in await emulator_process.channels()]
            for days in (1, 2, 3):
                await alice.insert_event(ALICE, meeting_body(next_hour(days=days)))
                await asyncio.sleep(0.3)
            await emulator_process.control("POST", f"accounts/{CAROL}/revoke")
            await alice.insert_event(ALICE, meeting_body(next_hour(days=4), guest=CAROL))

            async def revoked() -> bool:
                _, body = await daemon.health()
                return any(a["state"] == "needs_reauth" for a in body["accounts"])

            await eventually(revoked, 20, "carol's revocation noticed")
            for path in ENDPOINTS:
                shown.append((await daemon.get(path))[1])
            shown.append((await daemon.get("/metrics", Accept="application/openmetrics-text"))[1])
            status, _ = await daemon.terminate()
            assert status == 0
        rules = (await emulator_process.control("GET", "faults"))["rules"]
        fired = {(r["kind"], r["status"], r["methods"][0]): r["fired"] for r in rules}
        shown.append(daemon.output)
    finally:
        await alice.aclose()

    assert all(count > 0 for count in fired.values()), f"a fault never fired: {fired}"
    assert "DEBUG" in daemon.output
    secrets = [WEBHOOK_KEY, *channel_tokens]
    for creds in emulator_process.accounts.values():
        secrets += [creds["client_secret"], creds["refresh_token"]]
    for text in shown:
        for secret in [*secrets, *TOKEN_SHAPES]:
            assert secret not in text, f"a secret ({secret[:6]}...) is shown:\n{text[:2000]}"

"""/health tells the truth at once, as real processes: fail for what needs a person, warn while retrying,
held deletions shown per target and in /metrics; failed writes logged once and never `created` in /stats.

The poll interval is a day, so the stale backstop (no success in twice the interval) explains nothing
here: only the typed failure of the last pass can.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.daemon.processes import (
    ALICE,
    BOB,
    CAROL,
    DaemonProcess,
    EmulatorProcess,
    blocks,
    daemon_env,
    eventually,
    free_port,
    meeting_body,
    next_hour,
    running_daemon,
    start_daemon,
)

pytestmark = pytest.mark.slow


def flows_of(body: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Return /health's flows by name."""
    return {flow["name"]: flow for flow in body["flows"]}


async def health_when(daemon: DaemonProcess, status: str, what: str) -> tuple[int, dict[str, Any]]:
    """Wait until /health's status is `status`, and return the HTTP status and body then."""
    seen: list[tuple[int, dict[str, Any]]] = []

    async def reached() -> bool:
        seen.append(await daemon.health())
        return seen[-1][1]["status"] == status

    await eventually(reached, 20, what)
    return seen[-1]


async def gauge(daemon: DaemonProcess, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Return one metric's samples by their sorted labels."""
    _, exposition, _ = await daemon.get("/metrics")
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
        if s.name == name
    }


async def test_a_target_turned_read_only_fails_at_once_and_its_write_is_logged_and_stated_typed(
    emulator_process: EmulatorProcess,
) -> None:
    """bob's writable team calendar becomes read-only: 503 `fail` on the next pass, naming flow, calendar,
    403 requiredAccessLevel and the fix; one WARNING per failed pass with count and reason; /stats says
    the create failed, never `created`."""
    team = (await emulator_process.control("POST", "calendars", {"owner": CAROL, "summary": "team"}))["id"]
    await emulator_process.control("POST", f"calendars/{team}/acl", {"account": BOB, "role": "writer"})
    env = daemon_env(
        emulator_process,
        [ALICE, BOB],
        [("work", ALICE, BOB)],
        port=free_port(),
        extra={"SYNC_FLOW_1_TARGET_CALENDAR_ID": team},
    )
    alice = emulator_process.client(ALICE)
    try:
        async with running_daemon(env) as daemon:
            assert (await daemon.health())[0] == 200
            await emulator_process.control(
                "POST", f"calendars/{team}/acl", {"account": BOB, "role": "reader"}
            )
            await alice.insert_event(ALICE, meeting_body(next_hour(days=1)))

            code, body = await health_when(daemon, "fail", "/health failing for the read-only target")
            assert code == 503
            flow = flows_of(body)["work"]
            assert flow["state"] == "error"
            (error,) = flow["errors"]
            assert (error["side"], error["calendar"], error["operation"]) == ("target", team, "write")
            assert (error["status"], error["reason"], error["kind"]) == (
                403,
                "requiredAccessLevel",
                "forbidden",
            )
            assert "write access" in error["fix"]
            (problem,) = body["problems"]
            for part in (
                "flow work",
                team,
                "HTTP 403 requiredAccessLevel",
                "read-only",
                "fix: give account 2",
            ):
                assert part in problem, problem

            status, text, _ = await daemon.get("/api/v1/calendar/stats?limit=50")
            assert status == 200
            errors = [r for r in json.loads(text)["recent_results"] if r["action"] == "error"]
            assert errors
            assert all(r["reason"] == "create failed: forbidden" for r in errors), errors
    finally:
        await alice.aclose()
    warnings = [line for line in daemon.lines if "WARNING" in line and "write(s) to target" in line]
    failed_passes = [line for line in daemon.lines if "reconcile trigger=" in line and " ok=False" in line]
    assert warnings, daemon.output
    assert len(warnings) == len(failed_passes), daemon.output
    logged = rf"1 write\(s\) to target 2:{re.escape(team)} failed: 1 x HTTP 403 requiredAccessLevel"
    assert all(re.search(logged, line) for line in warnings), warnings


async def test_a_source_answering_not_found_fails_and_a_503_storm_only_warns(
    emulator_process: EmulatorProcess,
) -> None:
    """alice's listing answers 503 on every try: 200 `warn` naming the flow; then 404: 503 `fail` at once."""
    env = daemon_env(emulator_process, [ALICE, BOB], [("work", ALICE, BOB)], port=free_port())
    alice = emulator_process.client(ALICE)
    try:
        async with running_daemon(env) as daemon:
            storm = {
                "kind": "status",
                "status": 503,
                "methods": ["calendar.events.list"],
                "accounts": [ALICE],
            }
            await emulator_process.control("POST", "faults", {"rules": [storm]})
            await alice.insert_event(ALICE, meeting_body(next_hour(days=1)))
            code, body = await health_when(daemon, "warn", "/health warning about the 503 storm")
            assert code == 200
            assert flows_of(body)["work"]["state"] == "warn"
            (warning,) = body["warnings"]
            assert warning.startswith(
                f"flow work: reading the source calendar {ALICE} (account 1) failed: HTTP 503"
            )
            assert body["problems"] == []

            await emulator_process.control("DELETE", "faults")
            gone = storm | {"status": 404, "reason": "notFound"}
            await emulator_process.control("POST", "faults", {"rules": [gone]})
            await alice.insert_event(ALICE, meeting_body(next_hour(days=2)))
            code, body = await health_when(daemon, "fail", "/health failing for the source not found")
            assert code == 503
            (problem,) = body["problems"]
            for part in ("flow work", f"source calendar {ALICE}", "HTTP 404 notFound", "fix: check that"):
                assert part in problem, problem
            (error,) = flows_of(body)["work"]["errors"]
            assert (error["side"], error["kind"], error["needs_person"]) == ("source", "not_found", True)
            needs_person = await gauge(daemon, "calmirror_flow_needs_person")
            assert needs_person[(("flow", "work"),)] == 1.0
    finally:
        await alice.aclose()


async def test_a_source_that_cannot_be_read_holds_deletions_and_says_so(
    emulator_process: EmulatorProcess,
) -> None:
    """carol's listing fails; alice cancels a meeting: its block stays, and /health and the gauge say why,
    while alice's own flow into the same target is not `ok`."""
    flows = [("work", ALICE, BOB), ("side", CAROL, BOB)]
    env = daemon_env(emulator_process, [ALICE, BOB, CAROL], flows, port=free_port())
    alice, carol = emulator_process.client(ALICE), emulator_process.client(CAROL, 3)
    try:
        async with running_daemon(env) as daemon:
            meeting = await alice.insert_event(ALICE, meeting_body(next_hour(days=1)))

            async def mirrored() -> bool:
                return len(await blocks(emulator_process)) == 1

            await eventually(mirrored, 20, "alice's meeting mirrored into bob")
            storm = {
                "kind": "status",
                "status": 503,
                "methods": ["calendar.events.list"],
                "accounts": [CAROL],
            }
            await emulator_process.control("POST", "faults", {"rules": [storm]})
            await carol.insert_event(CAROL, meeting_body(next_hour(days=3), organizer=CAROL))

            async def side_failing() -> bool:
                return flows_of((await daemon.health())[1])["side"]["state"] == "warn"

            await eventually(side_failing, 20, "carol's failed read in /health")
            await alice.delete_event(ALICE, meeting["id"])

            async def held() -> bool:
                body = (await daemon.health())[1]
                return any(t["deletions_held"]["count"] for t in body["targets"])

            await eventually(held, 20, "the held deletion in /health")
            code, body = await daemon.health()
            assert (code, body["status"]) == (200, "warn")
            (target,) = body["targets"]
            assert target == {
                "target": f"2:{BOB}",
                "deletions_held": {"count": 1, "reasons": ["source_unread"], "because_of": ["side"]},
            }
            work = flows_of(body)["work"]
            assert work["state"] == "warn"
            assert work["deletions_held"]["because_of"] == ["side"]
            assert any(f"1 deletion(s) in target 2:{BOB} held because of side" in w for w in body["warnings"])
            assert len(await blocks(emulator_process)) == 1  # the rule stands: nothing deleted
            samples = await gauge(daemon, "calmirror_deletions_held")
            assert samples[(("reason", "source_unread"), ("target", f"2:{BOB}"))] == 1.0
            assert samples[(("reason", "guard"), ("target", f"2:{BOB}"))] == 0.0
    finally:
        await alice.aclose()
        await carol.aclose()


async def test_starting_says_what_the_start_waits_on(emulator_process: EmulatorProcess) -> None:
    """A slow first listing: 503 `starting` naming the first reconcile and how many targets are done."""
    slow = {"kind": "latency", "seconds": 3, "methods": ["calendar.events.list"], "times": 2}
    await emulator_process.control("POST", "faults", {"rules": [slow]})
    env = daemon_env(emulator_process, [ALICE, BOB], [("work", ALICE, BOB)], port=free_port())
    daemon = await start_daemon(env)
    try:
        seen: list[tuple[int, dict[str, Any]]] = []

        async def reconciling() -> bool:
            try:
                seen.append(await daemon.health())
            except OSError:  # not listening yet
                return False
            return (seen[-1][1].get("starting") or "").startswith("first reconcile")

        await eventually(reconciling, 20, "/health naming the first reconcile")
        code, body = seen[-1]
        assert (code, body["status"], body["starting"]) == (
            503,
            "starting",
            "first reconcile: 0 of 1 targets done",
        )
        assert (await daemon.wait_ready())["starting"] is None
    finally:
        await daemon.kill()

"""Pure tests of the /health answer built from a Snapshot."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from calmirror.daemon.health import POLLING_ONLY, health
from calmirror.daemon.snapshot import AccountView, FlowView, Snapshot
from calmirror.engine.stats import SyncEngineStats

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
STATS = SyncEngineStats(
    events_processed=0, busy_blocks_created=0, busy_blocks_deleted=0, errors=0, accounts=2, sync_flows=2,
    last_updated="",
)  # fmt: skip
WATCHED = FlowView("work", 1, 2, NOW - timedelta(minutes=5), True, None, NOW + timedelta(days=6), None)
POLLED = FlowView("home", 2, 1, NOW - timedelta(minutes=5), True, None, None, "invalid")


def snapshot(**changes: object) -> Snapshot:
    """Return a healthy, ready snapshot with the given fields replaced."""
    base = Snapshot(
        ready=True,
        started_at=NOW - timedelta(hours=1),
        now=NOW,
        poll_interval=timedelta(minutes=60),
        accounts=(AccountView(1, "a@example.com", None), AccountView(2, "b@example.com", None)),
        flows=(WATCHED, POLLED),
        stats=STATS,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_healthy_lists_accounts_and_flows_and_polling_only_is_not_a_failure() -> None:
    """200: every account and flow, channel expiry or "polling only"."""
    status, body = health(snapshot())
    assert status == 200
    assert body["status"] == "pass"
    assert [a["state"] for a in body["accounts"]] == ["ok", "ok"]
    flows = {f["name"]: f for f in body["flows"]}
    assert flows["work"]["channel_expires"] == (NOW + timedelta(days=6)).isoformat()
    assert flows["home"]["channel_expires"] == POLLING_ONLY
    assert flows["home"]["polling_reason"] == "invalid"


def test_starting_is_503() -> None:
    """Before the first reconcile finished."""
    status, body = health(snapshot(ready=False))
    assert (status, body["status"], body["ready"]) == (503, "starting", False)


def test_revoked_account_is_503_and_names_the_fix() -> None:
    """invalid_grant: the account and the command that fixes it."""
    accounts = (AccountView(1, "a@example.com", None), AccountView(2, "b@example.com", "invalid_grant"))
    status, body = health(snapshot(accounts=accounts))
    assert status == 503
    revoked = body["accounts"][1]
    assert revoked == {
        "id": 2,
        "email": "b@example.com",
        "state": "needs_reauth",
        "error": "invalid_grant",
        "fix": "calmirror authorize --email b@example.com --account-number 2",
    }
    assert body["problems"] == ["account 2 needs re-authorisation"]


def test_flow_without_success_within_twice_the_interval_is_503() -> None:
    """Stale after 2 x SYNC_INTERVAL_MINUTES without a success; a never-successful flow counts from start."""
    old = replace(WATCHED, last_success=NOW - timedelta(minutes=121), last_ok=False, last_error="transient")
    status, body = health(snapshot(flows=(old, POLLED)))
    assert status == 503
    assert body["flows"][0]["state"] == "stale"
    assert body["flows"][0]["last_error"] == "transient"
    fresh = replace(WATCHED, last_success=NOW - timedelta(minutes=119), last_ok=False)
    assert health(snapshot(flows=(fresh, POLLED)))[0] == 200
    never = replace(WATCHED, last_success=None, last_ok=False)
    assert health(snapshot(flows=(never, POLLED), started_at=NOW - timedelta(hours=3)))[0] == 503
    assert health(snapshot(flows=(never, POLLED), started_at=NOW - timedelta(minutes=10)))[0] == 200

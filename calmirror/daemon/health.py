"""Builds the /health answer from a Snapshot: the JSON body, and 200 (pass, warn) or 503 (fail, starting).

`pass`: every flow is current. `warn`: a flow's last pass failed in a way retrying cures (a 5xx, a
rate limit), or deletions are held because of such a failure; each is listed under `warnings`.
`fail`: something needs a person: a revoked account, a calendar that answers not found, forbidden,
read-only or quota exhausted (at once, after `fail_grace`), deletions the deletion guard holds (at
once), or a flow without a success in twice the poll interval (the backstop); each is listed under
`problems` with what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from calmirror.daemon.snapshot import AccountView, FlowView, Snapshot, TargetView
from calmirror.engine import GUARD_FIX
from calmirror.errors import Failure

POLLING_ONLY = "polling only"
NO_OUTCOME_YET = "no pass of this flow has finished since the start; the log says why"
FAILING = frozenset({"error", "stale"})  # flow states that make /health `fail`


def health(snapshot: Snapshot) -> tuple[int, dict[str, Any]]:
    """Return the status and body: 503 while starting or when something needs a person, else 200."""
    accounts = [_account(account, snapshot) for account in snapshot.accounts]
    views = {flow.name: flow for flow in snapshot.flows}
    flows = [_flow(flow, snapshot, views) for flow in snapshot.flows]
    problems = [
        f"account {a['id']} needs new credentials; fix: {a['fix']}" for a in accounts if a["state"] != "ok"
    ]
    problems += [line for f in flows if f["state"] in FAILING for line in f["problems"]]
    problems += [_guard_line(target) for target in snapshot.targets if _guarded(target.held)]
    warnings = [line for f in flows if f["state"] == "warn" for line in f["problems"]]
    status = "fail" if problems else "warn" if warnings else "pass"
    if not snapshot.ready:
        status = "starting"
    body = {
        "status": status,
        "ready": snapshot.ready,
        "starting": snapshot.starting,
        "uptime_seconds": int((snapshot.now - snapshot.started_at).total_seconds()),
        "problems": problems,
        "warnings": warnings,
        "accounts": accounts,
        "flows": flows,
        "targets": [_target(target) for target in snapshot.targets],
    }
    return (200 if status in ("pass", "warn") else 503), body


def _account(account: AccountView, snapshot: Snapshot) -> dict[str, Any]:
    """Describe one account: its provider, how it is read, and what renews refused credentials."""
    entry: dict[str, Any] = {
        "id": account.id,
        "provider": account.provider,
        "email": account.email,
        "state": "ok",
        "sync": _sync_mode(account, snapshot),
        "fix": None,
    }
    if account.needs_reauth is not None:
        entry |= {"state": "needs_reauth", "error": account.needs_reauth, "fix": account.renewal}
    return entry


def _sync_mode(account: AccountView, snapshot: Snapshot) -> str:
    """Say how an account's calendars are read: push and the global poll, or its own poll."""
    if account.needs_reauth is not None:  # its channels and subscriptions are gone, its polls refused
        return "stopped until its credentials are renewed"
    if account.poll_minutes is not None:
        return f"polling every {account.poll_minutes} min"
    every = f"polling every {int(snapshot.poll_interval.total_seconds() // 60)} min"
    return f"push, and {every}" if snapshot.webhooks else every


def _flow(flow: FlowView, snapshot: Snapshot, views: Mapping[str, FlowView]) -> dict[str, Any]:
    """Describe one flow: its state, each failure with what to do, and the deletions held in its target."""
    state, problems = _state(flow, snapshot, views)
    return {
        "name": flow.name,
        "state": state,
        "last_success": _iso(flow.last_success),
        "last_error": flow.last_error,
        "failing_since": _iso(flow.failing_since),
        "errors": [_error(failure, snapshot) for failure in flow.failures],
        "deletions_held": _held(flow.held, flow.held_by),
        "problems": [f"flow {flow.name}: {line}" for line in problems],
        "channel_expires": _iso(flow.channel_expiry) if flow.polling_reason is None else POLLING_ONLY,
        "polling_reason": flow.polling_reason,
    }


def _state(flow: FlowView, snapshot: Snapshot, views: Mapping[str, FlowView]) -> tuple[str, list[str]]:
    """Return a flow's state (ok, pending, warn, error, stale) and the lines that explain it."""
    lines = [_line(failure, snapshot) for failure in flow.failures]
    causes = []  # the failures holding deletions back in the flow's target
    guarded = _guarded(flow.held)
    held = len(flow.held) - guarded
    if held:
        causes = [f for name in flow.held_by if name in views for f in views[name].failures]
        because = ", ".join(flow.held_by) or "a source meeting with unusable times"
        lines.append(f"{held} deletion(s) in target {flow.target} held because of {because}")
    lines += [f"account {n} needs new credentials (see accounts)" for n in flow.stopped_by]
    if flow.stopped_by:  # nothing syncs until a person renews them: no grace, no retry cures it
        return "error", lines
    if guarded:  # a person must look before the blocks go: no grace, no retry cures it (said once per target)
        return "error", lines
    since = flow.last_success or snapshot.started_at
    if snapshot.ready and snapshot.now - since > 2 * (flow.poll_interval or snapshot.poll_interval):
        return "stale", lines or ["no successful sync recently"]
    if flow.last_ok is None:  # once ready, the first reconcile gave it no outcome: it broke off
        return ("warn", [*lines, NO_OUTCOME_YET]) if snapshot.ready else ("pending", lines)
    failing_for = snapshot.now - (flow.failing_since or snapshot.now)
    if any(f.needs_person for f in (*flow.failures, *causes)) and failing_for >= snapshot.fail_grace:
        return "error", lines
    return ("warn" if lines else "ok"), lines


def _line(failure: Failure, snapshot: Snapshot) -> str:
    """Return one failure as a sentence: side, calendar, status and reason, then what to do."""
    read_only = " (read-only for this account)" if failure.read_only else ""
    return f"{failure.describe()}{read_only}; fix: {_fix(failure, snapshot)}"


def _fix(failure: Failure, snapshot: Snapshot) -> str:
    """Return what to do about a failure; a refused credential's fix is its account's own renewal."""
    renewal = next((a.renewal for a in snapshot.accounts if a.id == failure.account_id), None)
    return failure.fix(renewal)


def _error(failure: Failure, snapshot: Snapshot) -> dict[str, Any]:
    """Return one failure's fields for scripts."""
    return {
        "side": failure.side,
        "calendar": failure.calendar,
        "account": failure.account_id,
        "operation": failure.operation,
        "kind": failure.kind,
        "status": failure.status,
        "reason": failure.reason,
        "needs_person": failure.needs_person,
        "fix": _fix(failure, snapshot),
    }


def _held(held: tuple[tuple[str, str], ...], held_by: tuple[str, ...]) -> dict[str, Any]:
    """Return the count of held deletions, their reasons and the flows whose read failed."""
    return {"count": len(held), "reasons": sorted({why for _, why in held}), "because_of": list(held_by)}


def _guard_line(target: TargetView) -> str:
    """Return the one problem line of a target whose deletions the deletion guard holds."""
    count = _guarded(target.held)
    return f"target {target.target}: {count} deletion(s) held by the deletion guard; fix: {GUARD_FIX}"


def _guarded(held: tuple[tuple[str, str], ...]) -> int:
    """Return how many of the held deletions the deletion guard holds."""
    return sum(why == "guard" for _, why in held)


def _target(target: TargetView) -> dict[str, Any]:
    """Describe one target calendar's held deletions, with the fix while the deletion guard holds some."""
    entry = {"target": target.target, "deletions_held": _held(target.held, target.held_by)}
    return entry | ({"fix": GUARD_FIX} if _guarded(target.held) else {})


def _iso(moment: datetime | None) -> str | None:
    """Return an instant as ISO 8601, or None."""
    return moment.isoformat() if moment else None

"""Builds the /health answer from a Snapshot: the JSON body and 200 or 503."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from calmirror.daemon.snapshot import AccountView, FlowView, Snapshot

POLLING_ONLY = "polling only"


def health(snapshot: Snapshot) -> tuple[int, dict[str, Any]]:
    """Return the status and body: 503 while starting, when an account needs a person, or a flow is stale."""
    accounts = [_account(account) for account in snapshot.accounts]
    flows = [_flow(flow, snapshot) for flow in snapshot.flows]
    problems = [f"account {a['id']} needs re-authorisation" for a in accounts if a["state"] != "ok"]
    problems += [f"flow {f['name']}: no successful sync recently" for f in flows if f["state"] == "stale"]
    status = "fail" if problems else "pass"
    if not snapshot.ready:
        status = "starting"
    body = {
        "status": status,
        "ready": snapshot.ready,
        "uptime_seconds": int((snapshot.now - snapshot.started_at).total_seconds()),
        "problems": problems,
        "accounts": accounts,
        "flows": flows,
    }
    return (200 if status == "pass" else 503), body


def _account(account: AccountView) -> dict[str, Any]:
    """Describe one account; a revoked grant names the command that fixes it."""
    entry: dict[str, Any] = {"id": account.id, "email": account.email, "state": "ok"}
    if account.needs_reauth is not None:
        entry |= {
            "state": "needs_reauth",
            "error": account.needs_reauth,
            "fix": f"calmirror authorize --email {account.email} --account-number {account.id}",
        }
    return entry


def _flow(flow: FlowView, snapshot: Snapshot) -> dict[str, Any]:
    """Describe one flow; it is stale when nothing succeeded within twice the poll interval."""
    since = flow.last_success or snapshot.started_at
    stale = snapshot.ready and snapshot.now - since > 2 * snapshot.poll_interval
    if stale:
        state = "stale"
    elif flow.last_ok is None:
        state = "pending"
    else:
        state = "ok" if flow.last_ok else "error"
    return {
        "name": flow.name,
        "state": state,
        "last_success": _iso(flow.last_success),
        "last_error": flow.last_error,
        "channel_expires": _iso(flow.channel_expiry) if flow.polling_reason is None else POLLING_ONLY,
        "polling_reason": flow.polling_reason,
    }


def _iso(moment: datetime | None) -> str | None:
    """Return an instant as ISO 8601, or None."""
    return moment.isoformat() if moment else None

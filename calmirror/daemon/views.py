"""What the daemon shows about itself: the Snapshot behind /health and the gauges, and /stats' body."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from calmirror.config import Account, Flow, GoogleAccount, MicrosoftAccount, Settings
from calmirror.daemon.keys import CHANNELS, DISPATCHER, ENGINE, LIFECYCLE, OPTIONS, SETTINGS, SUBSCRIPTIONS
from calmirror.daemon.snapshot import AccountView, FlowView, Snapshot, TargetView
from calmirror.engine import FlowOutcome, SyncEngine, TargetOutcome

FIRST_RECONCILE = "first reconcile"  # the start's phase while the first reconcile runs
PROVIDER_NAMES = {"google": "Google", "caldav": "CalDAV", "ics": "an ICS feed", "microsoft": "Microsoft 365"}


def snapshot(app: web.Application) -> Snapshot:
    """Gather what /health and /metrics show from the engine, clients, channels and dispatcher."""
    settings, engine, lifecycle = app[SETTINGS], app[ENGINE], app[LIFECYCLE]
    accounts = tuple(_account_view(engine, account) for account in settings.accounts.values())
    flows = tuple(flow_view(app, flow) for flow in settings.flows)
    targets = engine.target_status()
    return Snapshot(
        ready=lifecycle.ready,
        started_at=lifecycle.started_at,
        now=datetime.now(UTC),
        poll_interval=timedelta(minutes=settings.sync_interval_minutes),
        accounts=accounts,
        flows=flows,
        stats=engine.stats(),
        targets=tuple(
            TargetView(str(ref), outcome.held, _held_by(settings, outcome))
            for ref, outcome in targets.items()
        ),
        starting=None if lifecycle.ready else _phase(lifecycle.phase, len(targets), len(settings.targets())),
        fail_grace=timedelta(seconds=app[OPTIONS].fail_grace_seconds),
        webhooks=app[CHANNELS].enabled,
    )


def _account_view(engine: SyncEngine, account: Account) -> AccountView:
    """Describe one account of any provider: who it is, whether it works, and how it is read."""
    reauth = engine.providers[account.id].needs_reauth
    renewal = account.renewal(reauth)
    return AccountView(account.id, account.email, reauth, account.provider, _own_poll(account), renewal)


def _phase(phase: str, done: int, targets: int) -> str:
    """Return what the start waits on; during the first reconcile, how many targets are done."""
    return f"{phase}: {done} of {targets} targets done" if phase == FIRST_RECONCILE else phase


def _held_by(settings: Settings, outcome: TargetOutcome) -> tuple[str, ...]:
    """Return the names of the flows into a target whose source read failed in its last pass."""
    return tuple(
        flow.name for flow in settings.flows_into(outcome.target) if flow.id in outcome.failed_sources
    )


def flow_view(app: web.Application, flow: Flow) -> FlowView:
    """Describe one flow from its last outcome, its last success and its source's channel."""
    engine, settings = app[ENGINE], app[SETTINGS]
    outcome = engine.flow_status().get(flow.name)
    source = settings.account(flow.source.account_id)
    # A Microsoft source is pushed through a Graph subscription, a Google one through a watch channel.
    channels = app[SUBSCRIPTIONS] if isinstance(source, MicrosoftAccount) else app[CHANNELS]
    polled = _own_poll(source)
    sides = dict.fromkeys((flow.source.account_id, flow.target.account_id))
    stopped = tuple(n for n in sides if engine.providers[n].needs_reauth is not None)
    return FlowView(
        name=flow.name,
        last_success=app[DISPATCHER].last_success.get(flow.name),
        # A refused credential stops the flow now, not at its next failed pass (a poll may be an hour away).
        last_ok=False if stopped else (outcome.ok if outcome else None),
        last_error="needs_reauth" if stopped else _last_error(engine, flow, outcome),
        channel_expiry=channels.expiry(flow.source),
        polling_reason=channels.polling_reason(flow.source) if polled is None else _no_push(source, polled),
        failures=outcome.failures if outcome else (),
        failing_since=outcome.failing_since if outcome else None,
        target=str(flow.target),
        held=outcome.held if outcome else (),
        held_by=outcome.held_by if outcome else (),
        poll_interval=None if polled is None else timedelta(minutes=polled),
        push=polled is None,
        stopped_by=stopped,
    )


def _own_poll(account: Account) -> int | None:
    """Return the minutes between an account's own polls; None for push accounts (and the global poll)."""
    if isinstance(account, GoogleAccount | MicrosoftAccount):
        return None
    return account.poll_minutes


def _no_push(account: Account, minutes: int) -> str:
    """Say why a flow's source is polled only: its provider has no push calmirror can use."""
    return f"{PROVIDER_NAMES[account.provider]} has no push: polled every {minutes} min"


def _last_error(engine: SyncEngine, flow: Flow, outcome: FlowOutcome | None) -> str | None:
    """Return the short kind of the flow's last pass's problem, None when it passed or has not run."""
    return None if outcome is None or outcome.ok else _error_kind(engine, flow, outcome)


def _error_kind(engine: SyncEngine, flow: Flow, outcome: FlowOutcome) -> str:
    """Return the short kind of a failed flow's problem: a revoked account, else its first failure's kind."""
    if any(engine.providers[ref.account_id].needs_reauth for ref in (flow.source, flow.target)):
        return "needs_reauth"
    return outcome.failures[0].kind if outcome.failures else "error"


def stats(engine: SyncEngine, limit: int) -> dict[str, Any]:
    """Return the engine's SyncEngineStats fields and its `limit` most recent results, without titles.

    Titles appear only on the user's terminal (`calmirror sync`), never over HTTP (docs/design.md).
    """
    results = engine.results()[-limit:] if limit else []
    recent = [
        {
            "flow_name": r.flow_name,
            "event_id": r.event_id,
            "sync_type": r.sync_type,
            "success": r.success,
            "action": r.action,
            "reason": r.reason,
            "error": r.error,
        }
        for r in results
    ]
    return {**engine.stats().model_dump(), "recent_results": recent}

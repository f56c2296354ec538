"""The next step for a flow a sync pass failed: renew an account's credentials, or check a calendar id.

It decides by the failures' kinds and sides (calmirror.errors.Failure), never by a message's words.
"""

from __future__ import annotations

from calmirror.config import Flow, Settings
from calmirror.engine import FlowOutcome
from calmirror.errors import Failure

# Kinds meaning "this account cannot see or write that calendar"; a 403 for quota or rate is not one.
_NO_ACCESS = frozenset({"not_found", "forbidden"})


def with_next_step(settings: Settings, outcome: FlowOutcome) -> str:
    """Return a flow's failure followed by what to do about it (a command or a variable), when known."""
    message = outcome.message or ""
    flow = next((f for f in settings.flows if f.name == outcome.flow_name), None)
    if flow is None:
        return message
    steps = dict.fromkeys(step for f in outcome.failures if (step := _step(settings, flow, f)))
    return "; ".join([message, *steps]) if message else "; ".join(steps)


def _step(settings: Settings, flow: Flow, failure: Failure) -> str | None:
    """Return the next step for one failure of a flow, or None when there is nothing to suggest."""
    ref = flow.source if failure.side == "source" else flow.target
    if failure.kind == "auth" and ref.account_id in settings.accounts:
        return settings.account(ref.account_id).renewal(failure.reason)
    if failure.kind in _NO_ACCESS and ref.account_id in settings.ics_accounts:
        # A feed is one calendar: only its address can be wrong.
        return f"check ICS_ACCOUNT_{ref.account_id}_URL (`calmirror check-config --online` fetches it)"
    if failure.kind in _NO_ACCESS:
        variable = f"SYNC_FLOW_{flow.id}_{failure.side.upper()}_CALENDAR_ID={ref.calendar_id}"
        return f"check {variable} (`calmirror check-config --online` tells what access is missing)"
    return None

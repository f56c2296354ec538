"""The next step to suggest for a flow a sync pass failed: re-authorize an account, or check a calendar id."""

from __future__ import annotations

from calmirror.commands._online import authorize_hint
from calmirror.config import Settings

# The engine's words for the read that failed (calmirror.engine.sync), and the flow's side they name.
_SIDES = {"listing the source failed": "SOURCE", "listing the target failed": "TARGET"}
_REFUSED = ("token refresh rejected", "invalid_grant")
# Google's reasons for "this account cannot see or write that calendar"; a 403 for quota is not one.
_NO_ACCESS = ("HTTP 404", "HTTP 403 requiredAccessLevel", "HTTP 403 forbidden")


def with_next_step(settings: Settings, flow_name: str, message: str) -> str:
    """Return a flow's failure followed by what to do about it (a command or a variable), when known."""
    flow = next((f for f in settings.flows if f.name == flow_name), None)
    if flow is None:
        return message
    side = next((side for words, side in _SIDES.items() if words in message), "TARGET")
    ref = flow.source if side == "SOURCE" else flow.target
    if any(words in message for words in _REFUSED):
        return f"{message}; {authorize_hint(settings.account(ref.account_id))}"
    if any(words in message for words in _NO_ACCESS):
        variable = f"SYNC_FLOW_{flow.id}_{side}_CALENDAR_ID={ref.calendar_id}"
        return f"{message}; check {variable} (`calmirror check-config --online` tells what access is missing)"
    return message

"""The sync engine's front door: SyncEngine and the values it takes and returns."""

from calmirror.engine.cache import Changes
from calmirror.engine.events import parse_event, parse_events
from calmirror.engine.executor import ExecutionReport
from calmirror.engine.guard import GUARD_FIX
from calmirror.engine.ids import block_id, is_marked
from calmirror.engine.model import (
    Action,
    Attendee,
    BlockSpec,
    EventProcessingResult,
    HoldReason,
    Interval,
    Plan,
    SourceEvent,
    TargetBlock,
    Trigger,
    Window,
)
from calmirror.engine.outcomes import COLUMNS, FlowOutcome, SyncSummary, TargetOutcome
from calmirror.engine.planner import plan_target
from calmirror.engine.purge import PurgeOutcome
from calmirror.engine.stats import SyncEngineStats
from calmirror.engine.sync import SyncEngine

__all__ = [
    "COLUMNS",
    "GUARD_FIX",
    "Action",
    "Attendee",
    "BlockSpec",
    "Changes",
    "EventProcessingResult",
    "ExecutionReport",
    "FlowOutcome",
    "HoldReason",
    "Interval",
    "Plan",
    "PurgeOutcome",
    "SourceEvent",
    "SyncEngine",
    "SyncEngineStats",
    "SyncSummary",
    "TargetBlock",
    "TargetOutcome",
    "Trigger",
    "Window",
    "block_id",
    "is_marked",
    "parse_event",
    "parse_events",
    "plan_target",
]

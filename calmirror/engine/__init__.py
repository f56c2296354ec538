"""The sync engine's front door: SyncEngine and the values it takes and returns."""

from calmirror.engine.cache import Changes
from calmirror.engine.executor import ExecutionReport
from calmirror.engine.guard import GUARD_FIX
from calmirror.engine.ids import block_id
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
from calmirror.engine.provider import (
    BlockOutcome,
    BlockWrite,
    CalendarProvider,
    Create,
    Delta,
    Listing,
    Remove,
    Restore,
)
from calmirror.engine.purge import PurgeOutcome
from calmirror.engine.stats import SyncEngineStats
from calmirror.engine.sync import SyncEngine

__all__ = [
    "COLUMNS",
    "GUARD_FIX",
    "Action",
    "Attendee",
    "BlockOutcome",
    "BlockSpec",
    "BlockWrite",
    "CalendarProvider",
    "Changes",
    "Create",
    "Delta",
    "EventProcessingResult",
    "ExecutionReport",
    "FlowOutcome",
    "HoldReason",
    "Interval",
    "Listing",
    "Plan",
    "PurgeOutcome",
    "Remove",
    "Restore",
    "SourceEvent",
    "SyncEngine",
    "SyncEngineStats",
    "SyncSummary",
    "TargetBlock",
    "TargetOutcome",
    "Trigger",
    "Window",
    "block_id",
    "plan_target",
]

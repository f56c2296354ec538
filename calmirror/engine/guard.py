"""The deletion guard: whether one pass wants to delete so many of a target's blocks that a person must look.

A pass that would delete more than `min_blocks` blocks *and* more than `percent` % of the calmirror
blocks in the target's window listing deletes none of them (docs/design.md §4.7).
The decision is pure and knows no provider: the planner asks it with two counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from calmirror.config.models import DEFAULT_GUARD_MIN_BLOCKS, DEFAULT_GUARD_PERCENT

# What a person does about held deletions: the sync table, /health and the log all say it.
GUARD_FIX = "look with `calmirror sync --dry-run`, then run `calmirror sync --allow-mass-deletion`"


@dataclass(frozen=True)
class DeletionGuard:
    """The two thresholds a pass's deletions in one target must both exceed to be held; percent 0 is off."""

    min_blocks: int = DEFAULT_GUARD_MIN_BLOCKS
    percent: int = DEFAULT_GUARD_PERCENT

    def __post_init__(self) -> None:
        if self.min_blocks < 0 or not 0 <= self.percent <= 99:
            raise ValueError(f"a deletion guard needs min_blocks >= 0 and percent 0..99, got {self}")

    @property
    def on(self) -> bool:
        """Tell whether the guard can hold anything (percent 0 turns it off)."""
        return self.percent > 0

    def holds(self, blocks: int, deletions: int) -> bool:
        """Tell whether deleting `deletions` of the target's `blocks` blocks must wait for a person."""
        # Whole numbers only: `deletions / blocks > percent / 100` without rounding.
        return self.on and deletions > self.min_blocks and deletions * 100 > self.percent * blocks


GUARD_OFF = DeletionGuard(percent=0)

"""`calmirror purge`: Remove every block calmirror owns in the target calendars, and nothing else."""

from __future__ import annotations

import argparse
from typing import Any

from calmirror.commands._engine import add_common_arguments, flow_names, run_with_engine
from calmirror.commands._tables import purge_lines
from calmirror.engine import SyncEngine


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `purge` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "purge",
        help="Remove every block calmirror owns in the target calendars.",
        description="A block is an event carrying calmirror's ownership mark; they are removed from the "
        "target calendars of every flow (or of --flow's target) in any time range, and nothing else "
        "is touched.",
    )
    add_common_arguments(parser)
    parser.set_defaults(handler=purge)


def purge(args: argparse.Namespace) -> int:
    """Remove the blocks; exit 0 when every one was removed, 1 otherwise, 2 on bad configuration."""

    async def work(engine: SyncEngine) -> int:
        outcomes = await engine.purge(flows=flow_names(args), dry_run=args.dry_run)
        print(purge_lines(outcomes))
        return 0 if all(outcome.ok for outcome in outcomes) else 1

    return run_with_engine(args, "purge", work)

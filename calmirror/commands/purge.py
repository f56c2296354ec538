"""`calmirror purge`: Remove every block calmirror owns in the target calendars, and nothing else."""

from __future__ import annotations

import argparse
from typing import Any

from calmirror.commands.sync import add_common_arguments, flow_names, run_with_engine
from calmirror.engine import SyncEngine
from calmirror.engine.report import purge_lines


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `purge` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "purge",
        help="Remove every block calmirror owns in the target calendars.",
        description="Remove every event carrying calmirror's ownership mark from the target calendars "
        "(of every flow, or of --flow's target), in any time range; nothing else is touched.",
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

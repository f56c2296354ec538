"""`calmirror sync`: Run one full reconcile of every flow (or one flow's target) and print what it did."""

from __future__ import annotations

import argparse
from typing import Any

from calmirror.commands._engine import add_common_arguments, flow_names, run_with_engine
from calmirror.commands._tables import sync_table
from calmirror.engine.engine import SyncEngine


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `sync` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sync",
        help="Run one full reconcile of every flow and print what was done.",
        description="Run one full reconcile and print, per flow, what it did (or would do). With --flow, "
        "that flow's target calendar is reconciled, taking every flow into that calendar into account "
        "so nothing another flow wants is removed. Exit 0 only if every flow succeeded.",
    )
    parser.add_argument(
        "--days-back", type=int, default=None, metavar="N", help="window start, days before now"
    )
    parser.add_argument(
        "--days-forward", type=int, default=None, metavar="M", help="window end, days after now"
    )
    add_common_arguments(parser)
    parser.set_defaults(handler=sync)


def sync(args: argparse.Namespace) -> int:
    """Run one full reconcile; exit 0 when every flow succeeded, 1 otherwise, 2 on bad configuration."""

    async def work(engine: SyncEngine) -> int:
        settings = engine.settings
        back = settings.daily_reconcile_days_back if args.days_back is None else args.days_back
        forward = settings.daily_reconcile_days_forward if args.days_forward is None else args.days_forward
        window = engine.window(days_back=back, days_forward=forward)
        summary = await engine.reconcile_all(
            window, flows=flow_names(args), dry_run=args.dry_run, sync_type="manual"
        )
        print(sync_table(summary, dry_run=args.dry_run))
        return 0 if summary.ok else 1

    return run_with_engine(args, "sync", work)

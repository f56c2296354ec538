"""`calmirror sync`: Run one full reconcile of every flow (or one flow's target) and print what it did."""

from __future__ import annotations

import argparse
from typing import Any

from calmirror.commands._arguments import bounded
from calmirror.commands._engine import add_common_arguments, flow_names, run_with_engine
from calmirror.commands._tables import event_lines, sync_table
from calmirror.config.models import (
    DAYS_BACK_RANGE,
    DAYS_FORWARD_RANGE,
    DEFAULT_DAYS_BACK,
    DEFAULT_DAYS_FORWARD,
)
from calmirror.engine import SyncEngine


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `sync` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sync",
        help="Run one full reconcile of every flow and print what was done.",
        description=f"The window is {DEFAULT_DAYS_BACK} days back and {DEFAULT_DAYS_FORWARD} days forward "
        "from now unless DAILY_RECONCILE_DAYS_BACK/_FORWARD or --days-back/--days-forward say otherwise; "
        "the table counts, per flow, what was done (or, with --dry-run, would be). With --flow, "
        "that flow's target calendar is reconciled, taking every flow into that calendar into account "
        "so nothing another flow wants is removed. A pass that would delete more than "
        "DELETION_GUARD_MIN_BLOCKS blocks and DELETION_GUARD_PERCENT % of a target's blocks deletes none "
        "of them there (the deletion guard). Exit 0 only if every flow succeeded and no deletion was held.",
    )
    parser.add_argument(
        "--days-back",
        type=bounded(*DAYS_BACK_RANGE, unit=" days"),
        default=None,
        metavar="N",
        help=f"window start, days before now (default: DAILY_RECONCILE_DAYS_BACK, {DEFAULT_DAYS_BACK})",
    )
    parser.add_argument(
        "--days-forward",
        type=bounded(*DAYS_FORWARD_RANGE, unit=" days"),
        default=None,
        metavar="M",
        help=f"window end, days after now (default: DAILY_RECONCILE_DAYS_FORWARD, {DEFAULT_DAYS_FORWARD})",
    )
    parser.add_argument(
        "--verbose",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="list each block written or removed and each skipped meeting, with why "
        "(default: on with --dry-run, off otherwise)",
    )
    parser.add_argument(
        "--allow-mass-deletion",
        action="store_true",
        help="carry out the deletions the deletion guard holds (look first with --dry-run)",
    )
    add_common_arguments(parser)
    parser.set_defaults(handler=sync)


def sync(args: argparse.Namespace) -> int:
    """Run one full reconcile; exit 0 when every flow succeeded and nothing was held, 1 otherwise, 2 on bad
    configuration."""

    async def work(engine: SyncEngine) -> int:
        settings = engine.settings
        back = settings.daily_reconcile_days_back if args.days_back is None else args.days_back
        forward = settings.daily_reconcile_days_forward if args.days_forward is None else args.days_forward
        window = engine.window(days_back=back, days_forward=forward)
        summary = await engine.reconcile_all(
            window,
            flows=flow_names(args),
            dry_run=args.dry_run,
            trigger="manual",
            allow_mass_deletion=args.allow_mass_deletion,
        )
        verbose = args.dry_run if args.verbose is None else args.verbose
        listing = event_lines(summary, dry_run=args.dry_run) if verbose else []
        # Meeting titles are printed here, for the user's eyes only; the engine never logs them.
        print(
            "\n".join(
                [*listing, *([""] if listing else []), sync_table(summary, settings, dry_run=args.dry_run)]
            )
        )
        return 0 if summary.ok and not summary.held else 1

    return run_with_engine(args, "sync", work)

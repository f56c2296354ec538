"""`calmirror sync`: Run one full reconcile of every flow (or one flow's target) and print what it did."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from calmirror.commands._config import load_config, report_config_error
from calmirror.config import Settings
from calmirror.engine import SyncEngine
from calmirror.engine.report import sync_table
from calmirror.engine.sync import open_clients
from calmirror.errors import CalmirrorError, ConfigError
from calmirror.logs import setup_logging


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


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --flow, --dry-run and --env-file."""
    parser.add_argument("--flow", metavar="NAME", default=None, help="only the target calendar of this flow")
    parser.add_argument("--dry-run", action="store_true", help="print what would be done, write nothing")
    parser.add_argument(
        "--env-file", type=Path, default=None, metavar="PATH", help="read variables from this file"
    )


def load_or_report(args: argparse.Namespace) -> Settings | None:
    """Load the settings, or print every configuration problem to stderr and return None."""
    try:
        settings = load_config(args.env_file)
        if args.flow is not None and args.flow not in {flow.name for flow in settings.flows}:
            raise ConfigError([f"--flow {args.flow}: no flow has this name"])
    except ConfigError as error:
        report_config_error(error)
        return None
    setup_logging(settings.log_level, settings.secrets())
    return settings


def run_with_engine(
    args: argparse.Namespace, command: str, work: Callable[[SyncEngine], Awaitable[int]]
) -> int:
    """Load the settings, run `work` on an engine with one client per account, and close the clients.

    Returns `work`'s exit status, 2 when the configuration is unusable, 1 when the engine refuses (an
    unknown flow).
    """
    settings = load_or_report(args)
    if settings is None:
        return 2

    async def run() -> int:
        clients = open_clients(settings)
        try:
            return await work(SyncEngine(settings, clients))
        finally:
            await asyncio.gather(*(client.aclose() for client in clients.values()))

    try:
        return asyncio.run(run())
    except CalmirrorError as error:
        print(f"calmirror {command}: {error}", file=sys.stderr)
        return 1


def flow_names(args: argparse.Namespace) -> list[str] | None:
    """Return the flows --flow names (None: every flow)."""
    return None if args.flow is None else [args.flow]


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

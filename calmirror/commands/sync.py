"""`calmirror sync`: Run one full reconcile of every flow (or one flow's target) and print what it did."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from calmirror.commands._config import report_config_error
from calmirror.config import Settings, load_settings
from calmirror.engine.engine import SyncEngine
from calmirror.engine.report import sync_table
from calmirror.errors import CalmirrorError, ConfigError
from calmirror.google.client import CalendarClient
from calmirror.logs import setup_logging

T = TypeVar("T")


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
    env_file: Path = args.env_file or Path(".env")
    try:
        if args.env_file is not None and not env_file.is_file():
            raise ConfigError([f"--env-file {env_file}: no such file"])
        settings = load_settings(env_file=env_file)
        if args.flow is not None and args.flow not in {flow.name for flow in settings.flows}:
            raise ConfigError([f"--flow {args.flow}: no flow has this name"])
    except ConfigError as error:
        report_config_error(error)
        return None
    setup_logging(settings.log_level, settings.secrets())
    return settings


async def with_engine(settings: Settings, work: Callable[[SyncEngine], Awaitable[T]]) -> T:
    """Build one client per account and an engine, run `work`, and close the clients."""
    clients = {
        account.id: CalendarClient(
            account, api_root=settings.google_api_root_url, token_uri=settings.google_token_uri
        )
        for account in settings.accounts.values()
    }
    try:
        return await work(SyncEngine(settings, clients))
    finally:
        await asyncio.gather(*(client.aclose() for client in clients.values()))


def sync(args: argparse.Namespace) -> int:
    """Run one full reconcile; exit 0 when every flow succeeded, 1 otherwise, 2 on bad configuration."""
    settings = load_or_report(args)
    if settings is None:
        return 2
    flows = None if args.flow is None else [args.flow]

    async def work(engine: SyncEngine) -> int:
        back = settings.daily_reconcile_days_back if args.days_back is None else args.days_back
        forward = settings.daily_reconcile_days_forward if args.days_forward is None else args.days_forward
        window = engine.window(days_back=back, days_forward=forward)
        summary = await engine.reconcile_all(window, flows=flows, dry_run=args.dry_run, sync_type="manual")
        print(sync_table(summary, dry_run=args.dry_run))
        return 0 if summary.ok else 1

    try:
        return asyncio.run(with_engine(settings, work))
    except CalmirrorError as error:
        print(f"calmirror sync: {error}", file=sys.stderr)
        return 1

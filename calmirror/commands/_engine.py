"""The arguments sync and purge share, and how they run their work on an engine."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from calmirror.commands._config import load_config, report_config_error
from calmirror.config import Settings
from calmirror.engine import SyncEngine
from calmirror.errors import CalmirrorError, ConfigError
from calmirror.logs import setup_logging
from calmirror.runtime import runtime


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --flow, --dry-run and --env-file."""
    parser.add_argument("--flow", metavar="NAME", default=None, help="only the target calendar of this flow")
    parser.add_argument("--dry-run", action="store_true", help="print what would be done, write nothing")
    parser.add_argument(
        "--env-file", type=Path, default=None, metavar="PATH", help="read variables from this file"
    )


def flow_names(args: argparse.Namespace) -> list[str] | None:
    """Return the flows --flow names (None: every flow)."""
    return None if args.flow is None else [args.flow]


def load_or_report(args: argparse.Namespace) -> Settings | None:
    """Load the settings, or print every configuration problem to stderr and return None."""
    try:
        settings = load_config(args.env_file)
        names = [flow.name for flow in settings.flows]
        if args.flow is not None and args.flow not in names:
            raise ConfigError(
                [f"--flow {args.flow}: no flow has this name; the flows are {', '.join(names)}"]
            )
    except ConfigError as error:
        report_config_error(error)
        return None
    setup_logging(settings.log_level, settings.secrets(), fmt=settings.log_format)
    if (
        settings.log_level != "DEBUG"
    ):  # the engine's INFO lines, meant for the daemon's journal, repeat the table
        logging.getLogger("calmirror.engine").setLevel(logging.WARNING)
    return settings


def run_with_engine(
    args: argparse.Namespace, command: str, work: Callable[[SyncEngine], Awaitable[int]]
) -> int:
    """Load the settings and run `work` on the runtime's engine.

    Returns `work`'s exit status, 2 when the configuration is unusable, 1 when the engine refuses (an
    unknown flow).
    """
    settings = load_or_report(args)
    if settings is None:
        return 2

    async def run() -> int:
        async with runtime(settings) as engine:
            return await work(engine)

    try:
        return asyncio.run(run())
    except CalmirrorError as error:
        print(f"calmirror {command}: {error}", file=sys.stderr)
        return 1

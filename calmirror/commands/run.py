"""`calmirror run`: Run the daemon (webhooks, polling, health and metrics)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from calmirror.commands._config import load_config, report_config_error
from calmirror.daemon.lifecycle import DEFAULT_CHANNEL_TTL, DaemonOptions
from calmirror.daemon.pushretry import RETRY_BASE_SECONDS
from calmirror.daemon.serve import run_daemon
from calmirror.errors import ConfigError
from calmirror.logs import setup_logging

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `run` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run",
        help="Run the daemon (webhooks, polling, health and metrics).",
        description="Run calmirror as a long-lived service configured from the environment: reconcile "
        "every target once, watch the source calendars through Google push notifications when "
        "WEBHOOK_BASE_URL is set, poll Google calendars every SYNC_INTERVAL_MINUTES and each CalDAV or ICS "
        "account every <FAMILY>_ACCOUNT_<N>_POLL_MINUTES, reconcile everything daily at "
        "DAILY_RECONCILE_TIME (UTC), and serve /health, /api/v1/calendar/stats and /metrics on "
        "LISTEN_HOST:LISTEN_PORT. Speaks the systemd notify protocol. Stops cleanly on SIGTERM or "
        "Ctrl-C. Exit 2 on an unusable configuration.",
    )
    parser.add_argument(
        "--env-file", type=Path, default=None, metavar="PATH", help="read variables from this file"
    )
    parser.add_argument(
        "--channel-ttl",
        type=int,
        default=DEFAULT_CHANNEL_TTL,
        metavar="SECONDS",
        help="lifetime asked for each watch channel (default 7 days; short values are for testing)",
    )
    parser.add_argument(
        "--channel-retry",
        type=float,
        default=RETRY_BASE_SECONDS,
        metavar="SECONDS",
        help="wait before watching again a calendar whose watch was refused, doubling each time "
        "(default 30; short values are for testing)",
    )
    parser.add_argument(
        "--start-stall",
        type=float,
        default=DaemonOptions.start_stall_seconds,
        metavar="SECONDS",
        help="under systemd, the start timeout is extended while the first reconcile makes progress; "
        "after this long without any, no longer (default 120; short values are for testing)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Validate the configuration (exit 2), then serve until a signal (exit 0)."""
    problems = []
    if args.channel_ttl < 1:
        problems.append("--channel-ttl: must be at least 1 second")
    if not args.channel_retry >= 1:
        problems.append("--channel-retry: must be at least 1 second")
    if not args.start_stall >= 1:
        problems.append("--start-stall: must be at least 1 second")
    try:
        settings = load_config(args.env_file)
    except ConfigError as error:
        report_config_error(ConfigError(problems + error.problems, error.warnings))
        return 2
    if problems:
        report_config_error(ConfigError(problems))
        return 2
    setup_logging(settings.log_level, settings.secrets(), fmt=settings.log_format, queued=True)
    if settings.log_level != "DEBUG":  # one INFO line per job run and job added is noise in the journal
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    for warning in settings.warnings:
        log.warning("%s", warning)
    options = DaemonOptions(
        channel_ttl_seconds=args.channel_ttl,
        channel_retry_seconds=args.channel_retry,
        start_stall_seconds=args.start_stall,
    )
    return run_daemon(settings, options)

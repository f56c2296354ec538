"""The argparse root: one sub-command per module in calmirror.commands, and the report of a failure."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from calmirror import __version__
from calmirror.commands import (
    authorize,
    check_config,
    demo,
    emulator,
    purge,
    run,
    sync,
)
from calmirror.config.loader import LOG_LEVELS
from calmirror.config.names import is_secret
from calmirror.logs import MIN_MASKED_LENGTH, installed_secrets, redact, setup_logging

COMMANDS = (run, check_config, sync, purge, demo, authorize, emulator)
log = logging.getLogger(__name__)
_MAX_DETAIL = 300  # characters of the exception's text on the one line


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """Return the parser with every sub-command registered, and each sub-command's own parser."""
    parser = argparse.ArgumentParser(
        prog="calmirror",
        description="Mirror meetings between Google, Microsoft 365, CalDAV and ICS calendars "
        "as private Busy blocks.",
    )
    parser.add_argument("--version", action="version", version=f"calmirror {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands = _Commands(subparsers)
    for command in COMMANDS:
        command.register(commands)
    return parser, commands.parsers


class _Commands:
    """The sub-parsers action as commands see it: a command's one-line help is also its --help description."""

    def __init__(self, action: Any) -> None:  # argparse's subparsers action has no public type
        self.action = action
        self.parsers: dict[str, argparse.ArgumentParser] = {}

    def add_parser(self, name: str, *, help: str, **options: Any) -> argparse.ArgumentParser:
        """Add a sub-command whose --help description starts with its one-line summary."""
        options["description"] = " ".join(filter(None, (help, options.get("description"))))
        parser: argparse.ArgumentParser = self.action.add_parser(name, help=help, **options)
        self.parsers[name] = parser
        return parser


def run_command(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command and return its exit status; no failure ends in a bare traceback."""
    parser, commands = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # argparse would blame the top-level parser and show its usage, not the command's
        commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        status: int = args.handler(args)
    except KeyboardInterrupt:
        print(f"calmirror {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the one place every unexpected failure is reported
        return report_unexpected(args.command, error)
    return status


def report_unexpected(command: str, error: Exception) -> int:
    """Print one redacted line for an unexpected failure, log its traceback at DEBUG, and return 1."""
    secrets = installed_secrets()
    if secrets is None:  # the command failed before it set up logging: use LOG_LEVEL from the environment
        level = os.environ.get("LOG_LEVEL", "").upper()
        secrets = tuple(value for name, value in os.environ.items() if is_secret(name))
        setup_logging(level if level in LOG_LEVELS else "INFO", secrets)
    log.debug("calmirror %s failed", command, exc_info=error)
    detail = " ".join(str(error).split())[:_MAX_DETAIL] or "no details"
    hint = "" if log.isEnabledFor(logging.DEBUG) else " (LOG_LEVEL=DEBUG logs the traceback)"
    message = f"calmirror {command}: unexpected error: {type(error).__name__}: {detail}{hint}"
    print(redact(message, [s for s in secrets if len(s) >= MIN_MASKED_LENGTH]), file=sys.stderr)
    return 1

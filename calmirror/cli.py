"""The `calmirror` command line: one sub-command per module in calmirror.commands."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

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

COMMANDS = (run, check_config, sync, purge, demo, authorize, emulator)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="calmirror",
        description="Mirror meetings between Google calendars as private Busy blocks.",
    )
    parser.add_argument("--version", action="version", version=f"calmirror {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command and return its exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status

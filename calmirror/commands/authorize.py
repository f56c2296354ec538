"""`calmirror authorize`: Obtain a refresh token for an account through the browser."""

from __future__ import annotations

import argparse
from typing import Any

from calmirror.commands._unavailable import not_yet_available


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `authorize` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "authorize", help="Obtain a refresh token for an account through the browser."
    )
    parser.set_defaults(handler=not_yet_available)

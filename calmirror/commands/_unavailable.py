"""Placeholder handler for sub-commands whose issue has not landed yet."""

from __future__ import annotations

import argparse
import sys


def not_yet_available(args: argparse.Namespace) -> int:
    """Say the command is not available in this version and exit 2."""
    print(f"calmirror {args.command}: not yet available in this version", file=sys.stderr)
    return 2

"""The `calmirror` entry point: it imports nothing heavy, so a Ctrl-C while the commands load is caught."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status; a Ctrl-C at any moment exits 130 in one line."""
    try:
        from calmirror.commands._root import run_command  # noqa: PLC0415 (loading it is what may be interrupted)

        return run_command(argv)
    except KeyboardInterrupt:
        print("calmirror: interrupted", file=sys.stderr)
        return 130

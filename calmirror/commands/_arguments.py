"""Argparse types shared by the commands: whole numbers within bounds, so a bad flag is a usage error."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def bounded(minimum: int, maximum: int | None = None, *, unit: str = "") -> Callable[[str], int]:
    """Return an argparse type accepting a whole number within [minimum, maximum] (`unit` names it)."""

    def parse(raw: str) -> int:
        try:
            number = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number{unit}") from None
        if maximum is None and number < minimum:
            raise argparse.ArgumentTypeError(f"{number} is less than {minimum}")
        if maximum is not None and not minimum <= number <= maximum:
            raise argparse.ArgumentTypeError(f"{number} is not between {minimum} and {maximum}{unit}")
        return number

    return parse

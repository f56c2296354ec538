"""The short, bounded names of provider failure kinds, used as metric labels and in /health.

Each error class carries its kind as a class attribute (calmirror/errors.py), so a subclass has its
own kind whatever order anything is checked in.
"""

from __future__ import annotations

from typing import get_args

from calmirror.errors import ErrorKind, ProviderError

KINDS: tuple[str, ...] = ("ok", *get_args(ErrorKind))


def error_kind(error: BaseException | None) -> str:
    """Return "ok" for no error, else the kind of a provider failure ("error" for anything else)."""
    if error is None:
        return "ok"
    return error.kind if isinstance(error, ProviderError) else "error"

"""Pydantic's validation errors as `VARIABLE=value: what to fix` problems, each location mapped to a name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from calmirror.config.names import FAMILY, GLOBALS, Variable
from calmirror.config.reader import Reader
from calmirror.config.source import VariablesSource

_NOT_WHOLE = frozenset({"int_parsing", "int_from_float", "int_type"})
_BOUNDS = frozenset({"greater_than_equal", "less_than_equal", "greater_than", "less_than"})


def report_invalid(reader: Reader, invalid: ValidationError, source: VariablesSource) -> None:
    """Record one problem per error, on a variable no earlier problem named (e.g. a client's half)."""
    for error in invalid.errors():
        if not error["loc"]:  # a rule of Settings as a whole, named in its message; groups.py may have it
            whole = _message(error, None)
            reader.problems += [] if whole in reader.problems else [whole]
            continue
        for name, declared in _named(error["loc"], error["type"] == "missing", source):
            if name not in reader.named:
                reader.problem(name, _message(error, declared))


def _named(
    loc: tuple[int | str, ...], missing: bool, source: VariablesSource
) -> list[tuple[str, Variable | None]]:
    """Return the variables an error location means, e.g. ('flows', 3, 'start_offset') -> SYNC_FLOW_<N>_..."""
    family = FAMILY.get(str(loc[0]))
    if family is None:
        return _matching("", GLOBALS, loc, missing)
    if len(loc) < 2 or not isinstance(loc[1], int):
        return [(f"{family.prefix}<N>_*", None)]
    prefix = f"{family.prefix}{source.number(family.attribute, loc[1])}_"
    return _matching(prefix, family.variables, loc[2:], missing)


def _matching(
    prefix: str, variables: Mapping[str, Variable], path: tuple[int | str, ...], missing: bool
) -> list[tuple[str, Variable | None]]:
    """Return the variable at `path` (or under it: a whole missing CalendarRef is its missing parts)."""
    holding = [v for v in variables.values() if v.path == path[: len(v.path)]]
    under = [v for v in variables.values() if v.path[: len(path)] == path]
    if holding:
        return [(prefix + holding[0].name, holding[0])]
    found = [v for v in under if v.field.is_required() or not missing]
    if len(found) == 1 or (missing and found):
        return [(prefix + v.name, v) for v in found]
    return [(f"{prefix}*" if prefix else "configuration", None)]


def _message(error: ErrorDetails, declared: Variable | None) -> str:
    """Say what to fix: our validators' own sentences, whole numbers and bounds in plain words."""
    kind = error["type"]
    if kind == "missing":
        hint = declared.field.description if declared is not None else None
        return f"missing ({hint})" if hint else "missing"
    if kind in _NOT_WHOLE:
        return "not a whole number"
    if kind in _BOUNDS and declared is not None:
        return _bounds(declared)
    # Our validators raise ValueError with the whole sentence; pydantic's own messages say what is
    # allowed ("Input should be 'busy' or 'skip'").
    cause = error.get("ctx", {}).get("error")
    return str(cause) if isinstance(cause, ValueError) else str(error["msg"])


def _bounds(declared: Variable) -> str:
    """Return `must be at least A and at most B` from the field's declared bounds."""
    low, high = _bound(declared.field.metadata, "ge"), _bound(declared.field.metadata, "le")
    upper = f" and at most {high}" if high is not None else ""
    return f"must be at least {low}{upper}" if low is not None else f"must be at most {high}"


def _bound(metadata: Iterable[object], name: str) -> object | None:
    """Return the value of a Ge or Le constraint among a field's metadata."""
    return next((getattr(item, name) for item in metadata if hasattr(item, name)), None)

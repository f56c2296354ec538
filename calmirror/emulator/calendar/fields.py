"""The `fields` standard parameter: partial responses as Google's front end cuts them."""

from __future__ import annotations

from typing import Any

Selection = dict[str, "Selection | None"]  # field -> sub-selection, None: the whole value


class FieldsError(ValueError):
    """A `fields` expression that does not parse."""


def parse_fields(expression: str) -> Selection:
    """Parse `a,b/c,d(e,f/g)` into a selection tree."""
    selection, end = _selection(expression.replace(" ", ""), 0)
    if end != len(expression.replace(" ", "")):
        raise FieldsError(f"Invalid field selection {expression}")
    return selection


def _selection(text: str, i: int) -> tuple[Selection, int]:
    """Parse items separated by commas, stopping at `)` or the end."""
    result: Selection = {}
    while True:
        start = i
        while i < len(text) and text[i] not in ",()":
            i += 1
        path = [name for name in text[start:i].split("/")]
        if not all(path):
            raise FieldsError(f"Invalid field selection {text}")
        sub: Selection | None = None
        if i < len(text) and text[i] == "(":
            sub, i = _selection(text, i + 1)
            if i >= len(text) or text[i] != ")":
                raise FieldsError(f"Invalid field selection {text}")
            i += 1
        for name in reversed(path[1:]):
            sub = {name: sub}
        _merge(result, path[0], sub)
        if i < len(text) and text[i] == ",":
            i += 1
            continue
        return result, i


def _merge(into: Selection, key: str, sub: Selection | None) -> None:
    """Add one selection; selecting a whole value wins over a partial one."""
    if key not in into:
        into[key] = sub
        return
    current = into[key]
    if current is None or sub is None:
        into[key] = None
        return
    for name, value in sub.items():
        _merge(current, name, value)


def apply_fields(value: Any, selection: Selection) -> Any:
    """Keep only the selected fields; lists apply the selection to each element."""
    if isinstance(value, list):
        return [apply_fields(item, selection) for item in value]
    if not isinstance(value, dict):
        return value
    kept: dict[str, Any] = {}
    for key, sub in selection.items():
        keys = list(value) if key == "*" else [key] if key in value else []
        for name in keys:
            kept[name] = value[name] if sub is None else apply_fields(value[name], sub)
    return kept

"""The OData query options the emulator understands: the extended-property `$filter` and `$expand`."""

from __future__ import annotations

import re

from calmirror.emulator.graph.errors import invalid_request
from calmirror.emulator.graph.model import StoredEvent

# singleValueExtendedProperties/any(ep: ep/id eq '...' and ep/value eq '...')
ANY_FILTER = re.compile(
    r"^singleValueExtendedProperties/any\(\s*(\w+)\s*:\s*\1/id eq '((?:[^']|'')*)'"
    r"(?:\s+and\s+\1/value eq '((?:[^']|'')*)')?\s*\)$"
)
EXPAND = re.compile(r"^singleValueExtendedProperties(?:\(\$filter=id eq '((?:[^']|'')*)'\))?$")


def unquote(text: str) -> str:
    """An OData string literal's value (`''` is one quote)."""
    return text.replace("''", "'")


def event_filter(text: str | None) -> tuple[str, str | None] | None:
    """The (property id, value or None) an extended-property `$filter` asks for; None without a filter."""
    if text is None:
        return None
    match = ANY_FILTER.match(text.strip())
    if match is None:
        raise invalid_request(f"The emulator serves only singleValueExtendedProperties/any filters: {text}")
    value = match.group(3)
    return unquote(match.group(2)), None if value is None else unquote(value)


def matches(event: StoredEvent, wanted: tuple[str, str | None] | None) -> bool:
    """Whether an event passes an extended-property filter."""
    if wanted is None:
        return True
    key, value = wanted
    return key in event.extended and (value is None or event.extended[key] == value)


def expansion(text: str | None) -> frozenset[str] | None:
    """The extended property ids `$expand` asks for (empty set: all of them); None without `$expand`."""
    if text is None:
        return None
    match = EXPAND.match(text.strip())
    if match is None:
        raise invalid_request(f"The emulator can expand only singleValueExtendedProperties: {text}")
    return frozenset() if match.group(1) is None else frozenset({unquote(match.group(1))})

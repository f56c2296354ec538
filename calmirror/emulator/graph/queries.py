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
# Graph expands an extended property only when named by id (singlevaluelegacyextendedproperty-get).
EXPAND = re.compile(r"^singleValueExtendedProperties\(\$filter=id eq '((?:[^']|'')*)'\)$")


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
    # The id is compared exactly, a string value case-insensitively (singlevaluelegacyextendedproperty-get).
    return key in event.extended and (value is None or event.extended[key].casefold() == value.casefold())


def expansion(text: str | None) -> frozenset[str] | None:
    """The extended property id `$expand` asks for; None without `$expand`."""
    if text is None:
        return None
    match = EXPAND.match(text.strip())
    if match is None:
        raise invalid_request(f"Expand singleValueExtendedProperties($filter=id eq '...') only: {text}")
    return frozenset({unquote(match.group(1))})

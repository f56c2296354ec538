"""Query options every listing shares: page size (`$top`, `odata.maxpagesize`), `$skip`, the time window."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from calmirror.emulator.graph import times
from calmirror.emulator.graph.errors import GraphError
from calmirror.emulator.graph.messages import GraphRequest

DEFAULT_PAGE = 10  # Graph's page size for events when neither $top nor odata.maxpagesize is given
MAX_PAGE = 1000
PAGE_SIZE = re.compile(r"odata\.maxpagesize=(\d+)")


def number(text: str, name: str) -> int:
    """A non-negative integer query option."""
    if not text.isdigit():
        raise GraphError(400, "BadRequest", f"Invalid value '{text}' for {name}.")
    return int(text)


def page_size(request: GraphRequest) -> int:
    """`$top`, else `Prefer: odata.maxpagesize=N`, else Graph's default, capped at 1000."""
    if "$top" in request.query:
        return max(1, min(MAX_PAGE, number(request.query["$top"], "$top")))
    found = PAGE_SIZE.search(request.headers.get("Prefer", ""))
    return max(1, min(MAX_PAGE, int(found.group(1)))) if found else DEFAULT_PAGE


def window(query: Mapping[str, str]) -> tuple[datetime, datetime]:
    """The startDateTime/endDateTime window calendarView and a first delta call require."""
    if "startDateTime" not in query or "endDateTime" not in query:
        raise GraphError(
            400,
            "ErrorInvalidParameter",
            "This request requires a time window specified by the query string parameters "
            "StartDateTime and EndDateTime.",
        )
    start = times.parse_query_instant(query["startDateTime"], "startDateTime")
    end = times.parse_query_instant(query["endDateTime"], "endDateTime")
    return start, end

"""The values a GraphClient call takes and answers: a call, a batch part and its answer, pages, calendars."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from calmirror.errors import NoAnswerError, ProviderError
from calmirror.microsoft.errors import WRITES

UTC_ZONE = 'outlook.timezone="UTC"'  # every answer's times in UTC


@dataclass(frozen=True)
class Call:
    """One Graph request: its method name (for observers and errors), HTTP method, path, query and body."""

    name: str
    method: str
    path: str  # below the version root, or an absolute @odata link
    params: Mapping[str, str] | None = None
    body: Any = field(default=None, repr=False)  # a subscription's holds its clientState
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class GraphCalendar:
    """One calendar of the mailbox as Graph lists it."""

    id: str
    name: str
    can_edit: bool
    is_default: bool


@dataclass(frozen=True)
class BatchPart:
    """One request of a $batch: its method name (for observers and errors), HTTP method, path and body."""

    name: str
    method: str
    url: str  # below the version root, e.g. /me/calendar/events
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class PartAnswer:
    """A batch part's answer: its JSON body on success, else the translated error."""

    body: Any = None
    error: ProviderError | None = None


@dataclass(frozen=True)
class Pages:
    """A paged collection read to its end: every item, and the delta link a delta round ends with."""

    items: tuple[dict[str, Any], ...]
    delta_link: str | None


def part_json(part_id: str, part: BatchPart) -> dict[str, Any]:
    """Render one batch part as $batch wants it."""
    found: dict[str, Any] = {"id": part_id, "method": part.method, "url": part.url}
    found["headers"] = {"Prefer": UTC_ZONE}
    if part.body is not None:
        found["body"] = part.body
        found["headers"]["Content-Type"] = "application/json"
    return found


def unknown_if_unanswered(answer: PartAnswer, name: str) -> PartAnswer:
    """Keep "no answer" as a write's final error when a later attempt only failed transiently."""
    error = answer.error
    if error is None or not error.retryable or isinstance(error, NoAnswerError) or name not in WRITES:
        return answer
    return PartAnswer(
        error=NoAnswerError(f"no answer to an earlier attempt, then {error}", status=error.status)
    )

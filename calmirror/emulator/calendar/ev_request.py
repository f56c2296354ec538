"""ApiRequest, ApiResponse, Route: values between the HTTP layer and the handlers (re-exported by api)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from multidict import MultiMapping

from calmirror.emulator.calendar.errors import bad_request

if TYPE_CHECKING:
    from calmirror.emulator.calendar.store import Store


@dataclass(frozen=True)
class ApiRequest:
    """One authenticated API call as the HTTP layer hands it over."""

    account: str
    method_id: str
    path_params: Mapping[str, str]
    query: MultiMapping[str]
    body: Any
    headers: Mapping[str, str]


@dataclass(frozen=True)
class ApiResponse:
    """What a handler answers; the HTTP layer renders `body` as JSON (None: empty body)."""

    status: int
    body: dict[str, Any] | None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """One discovery method: HTTP method, path template relative to /calendar/v3/, handler."""

    http_method: str
    path: str
    method_id: str
    handler: Callable[[Store, ApiRequest], ApiResponse]


def int_param(req: ApiRequest, name: str, default: int, *, low: int, high: int) -> int:
    """Parse an integer query parameter, capping it at `high` as Google does for maxResults."""
    raw = req.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(
            f"Invalid value '{raw}'. Values must match the following regular expression: '-?\\d+'",
            location=name,
        ) from None
    if value < low:
        raise bad_request(f"Invalid value '{raw}'.", location=name)
    return min(value, high)

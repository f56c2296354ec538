"""Support for the store/api tests: call ROUTES handlers directly, as the HTTP layer would (no tests here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from multidict import MultiDict

from calmirror.emulator.calendar.api import ROUTES, ApiRequest
from calmirror.emulator.calendar.errors import ApiError
from calmirror.emulator.calendar.store import Store

ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"
HANDLERS = {route.method_id: route.handler for route in ROUTES}


class Clock:
    """A settable clock for the store."""

    def __init__(self) -> None:
        self.now = datetime(2026, 9, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


class Api:
    """Calls handlers with an authenticated account; returns (status, body), errors included."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.store = Store(clock=self.clock, sync_token_ttl_seconds=7 * 24 * 3600)
        for email in (ALICE, BOB, CAROL):
            self.store.add_account(email)

    def call(
        self,
        method: str,
        *,
        account: str = ALICE,
        query: dict[str, Any] | list[tuple[str, str]] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        **path: str,
    ) -> tuple[int, Any]:
        """Run `calendar.<method>` and return status and JSON body (the error envelope on ApiError)."""
        path.setdefault("calendarId", "primary")
        pairs = list(query.items()) if isinstance(query, dict) else list(query or [])
        request = ApiRequest(account, f"calendar.{method}", path, MultiDict(pairs), body, headers or {})
        try:
            response = HANDLERS[f"calendar.{method}"](self.store, request)
        except ApiError as error:
            return error.status, error.body()
        return response.status, response.body

    def ok(self, method: str, **kwargs: Any) -> Any:
        """Like call, asserting a 2xx answer; returns the body."""
        status, body = self.call(method, **kwargs)
        assert 200 <= status < 300, body
        return body

    def insert(self, start: str, end: str, *, calendar: str = "primary", **fields: Any) -> dict[str, Any]:
        """Insert a timed (or, for date strings, all-day) event and return it."""
        key = "date" if len(start) == 10 else "dateTime"
        body = {"summary": "meeting", "start": {key: start}, "end": {key: end}, **fields}
        account = fields.pop("account", ALICE)
        body.pop("account", None)
        event: dict[str, Any] = self.ok("events.insert", account=account, calendarId=calendar, body=body)
        return event

    def items(self, calendar: str = "primary", *, account: str = ALICE, **query: str) -> list[dict[str, Any]]:
        """List (all pages) and return the items."""
        found: list[dict[str, Any]] = []
        params = dict(query)
        while True:
            page = self.ok("events.list", account=account, calendarId=calendar, query=params)
            found += page["items"]
            if "nextPageToken" not in page:
                return found
            params["pageToken"] = page["nextPageToken"]


def reason(body: dict[str, Any]) -> str:
    """Return the first errors[].reason of an error envelope."""
    value: str = body["error"]["errors"][0]["reason"]
    return value

"""Graph's error answers: an exception carrying status and code, rendered as Graph's error body."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from calmirror.errors import CalmirrorError


class GraphError(CalmirrorError):
    """An error the emulator answers with Graph's `{"error": {"code", "message", "innerError"}}` body."""

    def __init__(self, status: int, code: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        """The JSON body Graph sends with an error (https://learn.microsoft.com/graph/errors)."""
        request_id = str(uuid.uuid4())
        inner = {
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "request-id": request_id,
            "client-request-id": request_id,
        }
        return {"error": {"code": self.code, "message": self.message, "innerError": inner}}

    def headers(self) -> dict[str, str]:
        """Headers that go with the error: `Retry-After` on throttling."""
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


def not_found(what: str) -> GraphError:
    """The 404 Outlook answers for an id that names nothing."""
    return GraphError(404, "ErrorItemNotFound", f"The specified object was not found in the store. ({what})")


def invalid_request(message: str) -> GraphError:
    """A 400 for a request the emulator understands but Graph refuses."""
    return GraphError(400, "ErrorInvalidRequest", message)

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


class TokenError(CalmirrorError):
    """An OAuth error answer of the token endpoint (error, AADSTS code, description)."""

    def __init__(self, status: int, error: str, code: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.code = code
        self.description = description

    def body(self) -> dict[str, Any]:
        """The error body the identity platform answers (AADSTS code in the description and error_codes)."""
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.code}: {self.description} Trace ID: {trace} "
            f"Correlation ID: {correlation} Timestamp: {now}",
            "error_codes": [self.code],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }


# The code Graph answers with for each status a fault rule may inject (https://learn.microsoft.com/graph/errors).
FAULT_CODES = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "ErrorAccessDenied",
    404: "ErrorItemNotFound",
    409: "ErrorIrresolvableConflict",
    410: "SyncStateNotFound",
    412: "ErrorIrresolvableConflict",
    429: "ApplicationThrottled",
    500: "generalException",
    503: "ServiceNotAvailable",
    504: "UnknownError",
}


def injected(status: int, code: str | None, retry_after: int | None) -> GraphError:
    """The error a fault rule injects: its reason as the code, else the usual code of the status."""
    code = code or FAULT_CODES.get(status, "generalException")
    return GraphError(status, code, f"Injected fault: {code}.", retry_after=retry_after)

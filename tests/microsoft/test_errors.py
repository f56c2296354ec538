"""Graph's answers translated once, by status and code: the table, and a missing calendar over HTTP."""

from __future__ import annotations

import pytest

from calmirror.errors import (
    AuthNeededError,
    DuplicateError,
    Failure,
    ForbiddenError,
    GoneError,
    InvalidRequestError,
    NoAnswerError,
    NotFoundError,
    PreconditionFailedError,
    ProviderError,
    QuotaExceededError,
    RateLimitedError,
    SyncTokenExpiredError,
    TransientError,
)
from calmirror.microsoft import MicrosoftCalendars
from calmirror.microsoft.errors import from_status, from_token_answer
from tests.microsoft.conftest import WINDOW


def graph_error(code: str) -> dict[str, object]:
    """Graph's error body with a code and a message nothing may read."""
    return {"error": {"code": code, "message": "Access is denied. 404 410 429 whatever the wording says"}}


@pytest.mark.parametrize(
    ("status", "code", "method", "expected"),
    [
        (401, "InvalidAuthenticationToken", "events.list", AuthNeededError),
        (403, "ErrorAccessDenied", "events.list", ForbiddenError),
        (403, "ErrorAccessDenied", "events.create", ForbiddenError),
        (403, "ErrorQuotaExceeded", "events.create", QuotaExceededError),
        (404, "ErrorItemNotFound", "events.delete", NotFoundError),
        (410, "SyncStateNotFound", "calendarView.delta", SyncTokenExpiredError),
        (400, "resyncRequired", "calendarView.delta", SyncTokenExpiredError),
        (410, "ErrorItemNotFound", "events.get", GoneError),
        (409, "ErrorDuplicateTransactionId", "events.create", DuplicateError),
        (409, "ErrorIrresolvableConflict", "events.update", TransientError),
        (412, "ErrorIrresolvableConflict", "events.update", PreconditionFailedError),
        (429, "ApplicationThrottled", "events.list", RateLimitedError),
        (503, "ServiceUnavailable", "events.list", TransientError),
        (504, "GatewayTimeout", "events.create", NoAnswerError),
        (400, "ErrorInvalidRequest", "events.create", InvalidRequestError),
    ],
)
def test_graph_errors_by_status_and_code(
    status: int, code: str, method: str, expected: type[ProviderError]
) -> None:
    """Each status and code gets its class; the message names them and never Graph's wording."""
    error = from_status(status, graph_error(code), method, 1, retry_after=7.0)
    assert type(error) is expected
    assert str(error) == f"{method}: HTTP {status} {code}"
    assert (error.status, error.reason, error.retry_after) == (
        status,
        "requiredAccessLevel" if expected is ForbiddenError and method == "events.create" else code,
        7.0,
    )


def test_a_refused_write_is_a_read_only_calendar() -> None:
    """A 403 to a write reads as "the account may not write this calendar"."""
    error = from_status(403, graph_error("ErrorAccessDenied"), "events.create", 1)
    assert Failure.of(error, "target", "cal", "write").read_only


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, {"error": "invalid_grant", "error_codes": [70008]}, AuthNeededError),
        (401, {"error": "invalid_client", "error_codes": [7000215]}, AuthNeededError),
        (400, {"error": "invalid_request", "error_codes": [700082]}, AuthNeededError),
        (400, {"error": "interaction_required", "error_codes": [50076]}, AuthNeededError),
        (400, {"error": "invalid_scope", "error_codes": [70011]}, InvalidRequestError),
        (503, {"error": "temporarily_unavailable"}, TransientError),
        (502, "<html>bad gateway</html>", TransientError),
    ],
)
def test_token_endpoint_errors(status: int, body: object, expected: type[ProviderError]) -> None:
    """A dead grant or client needs a person; a busy endpoint is retried; the text names codes only."""
    error = from_token_answer(status, body, 1)
    assert type(error) is expected
    assert "html" not in str(error)


async def test_a_calendar_that_names_nothing_is_not_found(alice: MicrosoftCalendars) -> None:
    """A calendar id unknown to the mailbox answers NotFoundError, with a fix naming the calendar."""
    with pytest.raises(NotFoundError) as caught:
        await alice.list_window("AAMkNoSuchCalendar", WINDOW)
    assert "check that the source calendar" in Failure.of(caught.value, "source", "AAMkNoSuchCalendar").fix()

"""Translate CalDAV answers and transport failures into calmirror.errors, once, by status and operation.

Messages name the operation, the resource's path and the status: never a URL's credentials or the password.
"""

from __future__ import annotations

from typing import Literal

from calmirror.errors import (
    PASSWORD_REFUSED,
    AuthNeededError,
    DuplicateError,
    ForbiddenError,
    InvalidRequestError,
    NoAnswerError,
    NotFoundError,
    PreconditionFailedError,
    ProviderError,
    RateLimitedError,
    SyncTokenExpiredError,
    TransientError,
)

# What a request was for: the same status means different things to different operations.
Operation = Literal["discover", "list", "sync", "etags", "multiget", "get", "create", "restore", "remove"]
WRITES: frozenset[Operation] = frozenset({"create", "restore", "remove"})
# Structured reasons the provider decides by (never by a message's wording).
SYNC_UNSUPPORTED = "sync_unsupported"
INVALID_SYNC_TOKEN = "invalid_sync_token"  # noqa: S105 - a reason, not a secret
NOT_CALMIRRORS = "not_calmirrors"
VALID_SYNC_TOKEN = "{DAV:}valid-sync-token"  # noqa: S105 - an XML element name
SUPPORTED_REPORT = "{DAV:}supported-report"
NEED_PRIVILEGES = "{DAV:}need-privileges"
NO_UID_CONFLICT = "{urn:ietf:params:xml:ns:caldav}no-uid-conflict"  # RFC 4791 section 5.3.2.1
UID_CONFLICT = "uid_conflict"  # a create's UID is already stored at another address
INCOMPLETE = "incomplete_answer"  # a read whose answer failed or left out part of what was asked
NOT_CALDAV = "not_caldav"  # the address answers, but not as a CalDAV server (501, 405 to PROPFIND/REPORT)
GONE = frozenset({404, 410})  # the only member statuses that mean "this resource was deleted"


def from_status(
    status: int,
    operation: Operation,
    path: str,
    *,
    account_id: int | None,
    preconditions: tuple[str, ...] = (),
    retry_after: float | None = None,
) -> ProviderError:
    """Return the calmirror error for an HTTP error answer to `operation` on `path`."""
    message = f"CalDAV {operation} {path}: HTTP {status}"
    common = {"status": status, "account_id": account_id}
    if operation == "sync":
        special = _sync_error(status, message, preconditions, account_id)
        if special is not None:
            return special
    if operation == "create" and (NO_UID_CONFLICT in preconditions or status == 409):
        # Not a read-only calendar: the block is stored under another name; get_block finds it by UID.
        return DuplicateError(message, status=status, reason=UID_CONFLICT, account_id=account_id)
    if status == 401:
        return AuthNeededError(message, reason=PASSWORD_REFUSED, **common)
    if status in (405, 501) and operation not in WRITES:
        # A web server that is no CalDAV server refuses PROPFIND and REPORT: retrying cannot help.
        return InvalidRequestError(message, reason=NOT_CALDAV, **common)
    if status == 403:
        # A refused write means the account may read but not write this calendar.
        reason = "requiredAccessLevel" if operation in WRITES else "forbidden"
        return ForbiddenError(message, reason=reason, **common)
    if status in (404, 410):
        return NotFoundError(message, reason="not_found", **common)
    if status in (409, 412):
        return _conflict(status, operation, message, account_id)
    if status == 429:
        return RateLimitedError(message, reason="rate_limited", retry_after=retry_after, **common)
    if status in (502, 504) and operation in WRITES:
        # A gateway gave up waiting for the server: the write may have been carried out.
        return NoAnswerError(message, reason="gateway", **common)
    if status >= 500:
        return TransientError(message, reason="server_error", retry_after=retry_after, **common)
    return InvalidRequestError(message, reason="refused", **common)


def _sync_error(
    status: int, message: str, preconditions: tuple[str, ...], account_id: int | None
) -> ProviderError | None:
    """Return what a sync-collection failure means, None when it means what it means elsewhere.

    RFC 6578 answers an invalid token with 403 DAV:valid-sync-token; Xandikos answers 412 (or 500);
    servers without the report answer 501, 405 or 403 DAV:supported-report.
    """
    if VALID_SYNC_TOKEN in preconditions or status in (409, 412, 500):
        return SyncTokenExpiredError(message, status=status, reason=INVALID_SYNC_TOKEN, account_id=account_id)
    if status in (405, 501) or SUPPORTED_REPORT in preconditions:
        return InvalidRequestError(message, status=status, reason=SYNC_UNSUPPORTED, account_id=account_id)
    return None


def _conflict(status: int, operation: Operation, message: str, account_id: int | None) -> ProviderError:
    """Return a 409/412: a create's name is taken, or a resource changed since it was read."""
    if operation == "create":
        return DuplicateError(message, status=status, reason="exists", account_id=account_id)
    return PreconditionFailedError(message, status=status, reason="etag_changed", account_id=account_id)


def no_answer(operation: Operation, path: str, cause: BaseException, account_id: int | None) -> ProviderError:
    """Return the error for a request that got no readable answer (timeout, broken connection, garbage).

    A write may have been carried out (NoAnswerError, reported as unknown); a read is simply retried.
    """
    message = f"CalDAV {operation} {path}: no answer ({type(cause).__name__})"
    if operation in WRITES:
        return NoAnswerError(message, reason="no_answer", account_id=account_id)
    return TransientError(message, reason="no_answer", account_id=account_id)


def incomplete(operation: Operation, path: str, why: str, account_id: int | None) -> ProviderError:
    """Return the error for an answer that failed or left out part of what was asked: a failed read.

    `why` names statuses or counts only, never a resource's content.
    """
    message = f"CalDAV {operation} {path}: incomplete answer ({why})"
    return TransientError(message, reason=INCOMPLETE, account_id=account_id)


def not_calmirrors(operation: Operation, block_id: str, account_id: int | None) -> ProviderError:
    """Return the error for a write calmirror refuses to send: the resource was not seen carrying its mark."""
    message = f"CalDAV {operation} {block_id}: not sent, no listing saw this block with calmirror's mark"
    return PreconditionFailedError(message, reason=NOT_CALMIRRORS, account_id=account_id)

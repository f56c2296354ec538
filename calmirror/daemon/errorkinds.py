"""The short, bounded names of Google failure kinds, used as metric labels and in /health."""

from __future__ import annotations

from calmirror.errors import (
    AuthNeededError,
    DuplicateError,
    ForbiddenError,
    GoneError,
    GoogleError,
    InvalidRequestError,
    NotFoundError,
    PreconditionFailedError,
    QuotaExceededError,
    RateLimitedError,
    SyncTokenExpiredError,
    TransientError,
)

_KINDS: tuple[tuple[type[GoogleError], str], ...] = (
    (RateLimitedError, "rate_limited"),
    (TransientError, "transient"),
    (AuthNeededError, "auth"),
    (NotFoundError, "not_found"),
    (DuplicateError, "conflict"),
    (PreconditionFailedError, "conflict"),
    (SyncTokenExpiredError, "gone"),
    (GoneError, "gone"),
    (InvalidRequestError, "invalid"),
    (QuotaExceededError, "rate_limited"),
    (ForbiddenError, "auth"),  # a missing permission needs a person, like a revoked grant
)
KINDS = ("ok", *dict.fromkeys(kind for _, kind in _KINDS), "error")


def error_kind(error: BaseException | None) -> str:
    """Return "ok" for no error, else the kind of a Google failure ("error" for anything else)."""
    if error is None:
        return "ok"
    for cls, kind in _KINDS:
        if isinstance(error, cls):
            return kind
    return "error"

"""ApiError: an emulator failure rendered as Google's documented error envelope (errors guide)."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """One Google API error; `body()` is the JSON envelope Google's backend answers (errors guide)."""

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        domain: str = "global",
        location: str | None = None,
        location_type: str | None = None,
    ) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.domain = domain
        self.location = location
        self.location_type = location_type

    def body(self) -> dict[str, Any]:
        """Return `{"error": {"errors": [...], "code": ..., "message": ...}}` (no `status` key)."""
        item: dict[str, Any] = {"domain": self.domain, "reason": self.reason, "message": self.message}
        if self.location_type is not None:
            item["locationType"] = self.location_type
        if self.location is not None:
            item["location"] = self.location
        return {"error": {"errors": [item], "code": self.status, "message": self.message}}


def bad_request(message: str, *, reason: str = "invalid", location: str | None = None) -> ApiError:
    """400 for a malformed request; parameters carry `locationType: parameter` (errors guide)."""
    location_type = "parameter" if location is not None else None
    return ApiError(400, reason, message, location=location, location_type=location_type)


def not_found() -> ApiError:
    """404 notFound for an unknown calendar or event (errors guide)."""
    return ApiError(404, "notFound", "Not Found")


def required_access(role: str) -> ApiError:
    """403 requiredAccessLevel for a call the account's role on the calendar does not allow."""
    return ApiError(
        403, "requiredAccessLevel", f"You need to have {role} access to this calendar.", domain="calendar"
    )


def not_implemented(method_id: str) -> ApiError:
    """501 notImplemented for a discovery method the emulator does not serve (never 404 notFound)."""
    return ApiError(501, "notImplemented", f"{method_id} is not implemented by the emulator.")


def deleted() -> ApiError:
    """410 deleted for deleting an already deleted event (errors guide)."""
    return ApiError(410, "deleted", "Resource has been deleted")


def duplicate() -> ApiError:
    """409 duplicate for an id already used in the calendar, tombstones included (errors guide)."""
    return ApiError(409, "duplicate", "The requested identifier already exists.")


def invalid_id() -> ApiError:
    """400 invalid for a client id that is not base32hex of length 5..1024 (discovery doc Event.id)."""
    return ApiError(400, "invalid", "Invalid resource id value.")


def condition_not_met() -> ApiError:
    """412 conditionNotMet for a stale If-Match etag (versions guide, errors guide)."""
    return ApiError(
        412, "conditionNotMet", "Precondition Failed", location="If-Match", location_type="header"
    )


def time_range_empty() -> ApiError:
    """400 timeRangeEmpty for timeMin >= timeMax (errors guide)."""
    return ApiError(
        400,
        "timeRangeEmpty",
        "The specified time range is empty.",
        domain="calendar",
        location="timeMax",
        location_type="parameter",
    )


def full_sync_required() -> ApiError:
    """410 fullSyncRequired for an unknown, garbled, expired or invalidated sync token (sync guide)."""
    return ApiError(
        410,
        "fullSyncRequired",
        "Sync token is no longer valid, a full sync is required.",
        domain="calendar",
        location="syncToken",
        location_type="parameter",
    )

"""What calmirror keeps of its Graph subscriptions, read from Graph's answers, and why one is missing.

Graph's answers are checked in shape here: an odd one (no id, an unreadable date, not a JSON object)
becomes the provider's NoAnswerError, so it is handled as a refusal, never as a crash of a background task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from calmirror.config import CalendarRef
from calmirror.errors import Failure
from calmirror.microsoft.errors import no_answer


@dataclass(frozen=True)
class Subscribed:
    """A live subscription calmirror made on one calendar's events."""

    ref: CalendarRef
    id: str
    expiration: datetime


def subscribed(ref: CalendarRef, answer: Any, method: str) -> Subscribed:
    """Read the subscription Graph answered a create or renewal with; NoAnswerError when it is not one."""
    sub_id = answer.get("id") if isinstance(answer, dict) else None
    expiry = answer.get("expirationDateTime") if isinstance(answer, dict) else None
    if not isinstance(sub_id, str) or not sub_id or not isinstance(expiry, str):
        raise no_answer(method, ValueError("not a subscription"), ref.account_id)
    try:
        moment = datetime.fromisoformat(expiry)  # Graph writes seven fraction digits and Z
    except ValueError as exc:
        raise no_answer(method, exc, ref.account_id) from None
    return Subscribed(ref, sub_id, moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def listed(page: Any, account_id: int) -> tuple[list[dict[str, Any]], str | None]:
    """Read one page of GET /subscriptions: its subscriptions and the next page's link."""
    value = page.get("value") if isinstance(page, dict) else None
    if not isinstance(value, list):
        raise no_answer("subscriptions.list", ValueError("not a Graph collection"), account_id)
    following = page.get("@odata.nextLink")
    return [found for found in value if isinstance(found, dict)], following if isinstance(
        following, str
    ) else None


def refusal(failure: Failure) -> str:
    """Return why Graph refused a subscription, in words: the address, the account, or a hiccup."""
    answer = f"{failure.status} {failure.reason}" if failure.status else failure.answer
    if failure.reason == "ValidationError":
        return f"webhook address refused by Microsoft Graph ({answer}); check WEBHOOK_BASE_URL and its proxy"
    if failure.kind == "auth":
        return f"account {failure.account_id} needs re-authorisation ({answer})"
    if failure.kind in ("not_found", "forbidden"):
        return f"the account may not subscribe to this calendar ({answer})"
    if failure.kind in ("transient", "rate_limited", "quota"):
        return f"Microsoft Graph did not make the subscription for now ({answer}); retrying"
    return f"Microsoft Graph refused the subscription ({answer})"


def iso(moment: datetime) -> str:
    """Return a UTC time as Graph takes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

"""How a block looks in Outlook: its Graph body, its transactionId and the extended property marking it.

The mark is a named single-value extended property in calmirror's own property set; its value is the
block id, so a block read with the property expanded names itself. The transactionId is derived from
the block id: Graph drops a retried POST with the same transactionId and answers the first event.
Microsoft documents transactionId only as that protection, not whether a deleted event's id is free
again (https://learn.microsoft.com/graph/api/resources/event): a create made after the provider
saw the block's event deleted carries an id of its own, derived from the deleted event's Graph id, so
every process that saw the deletion sends the same one. Left open: after a restart the provider has
not seen the deletion and sends the plain id, which Graph may answer with the deleted event.

A user who copies a block in Outlook makes a second event with the same mark. Of the events carrying
one mark, the block is the one calmirror created (its transactionId says so), else the oldest; any
other is a stray copy: the provider shows it as the user's own event and never deletes it, because a
person made it and only its mark makes it look like calmirror's. A copy stays one once seen, also after
the block itself is deleted; and an event without the block's transactionId is never taken for the
block once another event is known to have held it (calmirror/microsoft/provider.py `_holder`): the block
is then created anew. Left open: a process that starts after the block was deleted and finds only the
copy takes it for the block; and two events both created by calmirror for one block (two
processes creating it with different transactionIds, see above) leave the younger as a copy in place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from calmirror.engine import BlockSpec

# calmirror's own property set (a fixed GUID); the property is a string named calmirror.block.
MARK_ID = "String {8b7f2c4e-3d1a-4e6b-9c52-7a0d1e5f4c38} Name calmirror.block"
TRANSACTION_PREFIX = "calmirror-"
BODY_TEXT = "A private busy block that calmirror keeps in step with a meeting in another calendar."


def mark_filter(block_id: str | None = None) -> str:
    """Return the $filter that finds marked events (only the one holding `block_id` when given)."""
    value = "" if block_id is None else f" and ep/value eq '{block_id}'"
    return f"singleValueExtendedProperties/any(ep: ep/id eq '{MARK_ID}'{value})"


def mark_expand() -> str:
    """Return the $expand that makes Graph answer an event with calmirror's mark, when it has one."""
    return f"singleValueExtendedProperties($filter=id eq '{MARK_ID}')"


def mark_of(resource: Mapping[str, Any]) -> str | None:
    """Return the block id an event's expanded mark holds, None when it carries none."""
    properties = resource.get("singleValueExtendedProperties")
    for prop in properties if isinstance(properties, list) else ():
        if isinstance(prop, dict) and prop.get("id") == MARK_ID and isinstance(prop.get("value"), str):
            return str(prop["value"]) or None
    return None


def holder(block_id: str, resources: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """Return which of the events carrying a block's mark is the block (see the module's docstring)."""

    def rank(resource: Mapping[str, Any]) -> tuple[bool, str, str]:
        ours = _is_ours(resource.get("transactionId"), block_id)
        return (not ours, str(resource.get("createdDateTime") or ""), str(resource.get("id")))

    return min(resources, key=rank, default=None)


def transaction_id(block_id: str, after: str | None = None) -> str:
    """Return the transactionId a block's create carries (the same for every retry of it).

    `after` is the Graph id of the block's last event seen deleted: the create then carries an id of
    its own, which every process that saw the same deletion derives alike.
    """
    if after is None:
        return TRANSACTION_PREFIX + block_id
    return f"{TRANSACTION_PREFIX}{block_id}-{hashlib.sha256(after.encode()).hexdigest()[:16]}"


def _is_ours(transaction: object, block_id: str) -> bool:
    """Tell whether a transactionId is one calmirror gives creates of the block."""
    plain = transaction_id(block_id)
    return isinstance(transaction, str) and (transaction == plain or transaction.startswith(plain + "-"))


def is_ours(resource: Mapping[str, Any], block_id: str) -> bool:
    """Tell whether calmirror created an event for the block (its transactionId, plain or suffixed)."""
    return _is_ours(resource.get("transactionId"), block_id)


def may_be_ours(resource: Mapping[str, Any]) -> bool:
    """Tell whether an event without a known mark was created by calmirror (its transactionId says so)."""
    transaction = resource.get("transactionId")
    return isinstance(transaction, str) and transaction.startswith(TRANSACTION_PREFIX)


def _when(instant: datetime) -> dict[str, str]:
    """Render one end of a block in UTC, as Graph's dateTimeTimeZone."""
    return {"dateTime": instant.strftime("%Y-%m-%dT%H:%M:%S.%f"), "timeZone": "UTC"}


def block_body(spec: BlockSpec, *, create: bool, after: str | None = None) -> dict[str, Any]:
    """Return a block's full Graph body: private, busy, silent, without attendees, marked.

    The same body (less the transactionId, which Graph does not let an update change) puts back a
    block someone edited; `after` is as for transaction_id.
    """
    body: dict[str, Any] = {
        "subject": spec.title,
        "start": _when(spec.interval.start),
        "end": _when(spec.interval.end),
        "isAllDay": spec.interval.all_day,
        "sensitivity": "private",
        "showAs": "busy",
        "isReminderOn": False,
        "responseRequested": False,
        "attendees": [],
        "body": {"contentType": "text", "content": BODY_TEXT},
        "singleValueExtendedProperties": [{"id": MARK_ID, "value": spec.id}],
    }
    if create:
        body["transactionId"] = transaction_id(spec.id, after)
    return body

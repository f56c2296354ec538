"""The batch endpoint's wire format: multipart/mixed of application/http parts (batch guide)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from email.parser import Parser
from email.policy import compat32
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from multidict import CIMultiDict, MultiDict

from calmirror.emulator.calendar.errors import ApiError
from calmirror.emulator.calls import Call, Outcome

MAX_PARTS = 1000  # current batch guide: "You're limited to 1000 calls in a single batch request"
_BLANK_LINE = re.compile(r"\r?\n\r?\n")


class BatchFormatError(ValueError):
    """A batch body that is not multipart/mixed of application/http requests."""


@dataclass(frozen=True)
class Part:
    """One batched request: its Content-ID and the call it carries (None when it cannot be parsed)."""

    content_id: str | None
    call: Call | None


def parse_batch(content_type: str, body: bytes, outer: Mapping[str, str], prefix: str) -> list[Part]:
    """Split a batch body into calls; outer headers except Content-* apply to every part (batch guide)."""
    if not content_type.lower().startswith("multipart/mixed"):
        raise BatchFormatError("batch requests must be multipart/mixed")
    text = f"Content-Type: {content_type}\r\n\r\n" + body.decode("utf-8")
    message = Parser(policy=compat32).parsestr(text)
    if not message.is_multipart():
        raise BatchFormatError("batch body has no parts")
    inherited = {k: v for k, v in outer.items() if not k.lower().startswith("content-")}
    parts = []
    for part in message.get_payload():
        if not isinstance(part, Message):
            raise BatchFormatError("batch part is not a MIME part")
        payload = part.get_payload()
        if not isinstance(payload, str):
            raise BatchFormatError("nested multipart is not a request")
        parts.append(Part(part.get("Content-ID"), _parse_request(payload, inherited, prefix)))
    return parts


def _parse_request(payload: str, inherited: Mapping[str, str], prefix: str) -> Call | None:
    """Parse `METHOD /path?query HTTP/1.1`, headers, blank line, body (LF or CRLF line ends)."""
    request_line, _, rest = payload.lstrip("\r\n").partition("\n")
    fields = request_line.strip().split(" ")
    if len(fields) < 2:
        return None
    if rest.startswith(("\n", "\r\n")):  # no headers at all
        head, content = "", rest.lstrip("\r\n")
    else:
        head, content = ([*_BLANK_LINE.split(rest, maxsplit=1), ""])[:2]
    headers: CIMultiDict[str] = CIMultiDict(inherited)
    for line in head.splitlines():
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip()] = value.strip()
    url = urlsplit(fields[1])
    if not url.path.startswith(prefix):
        return None
    query: MultiDict[str] = MultiDict(parse_qsl(url.query, keep_blank_values=True))
    path = url.path[len(prefix) :]
    return Call(fields[0].upper(), path, query, headers, content.encode("utf-8"), in_batch=True)


def response_content_id(content_id: str | None) -> str | None:
    """`<uuid + N>` becomes `<response-uuid + N>`, which the python client maps back."""
    if content_id is None:
        return None
    inner = content_id.strip()
    inner = inner[1:-1] if inner.startswith("<") and inner.endswith(">") else inner
    return f"<response-{inner}>"


def render_batch(parts: Sequence[tuple[str | None, Outcome]], dumps: Any) -> tuple[str, bytes]:
    """Return (content type, body): each part a full HTTP response, CRLFCRLF before its body."""
    boundary = f"batch_{secrets.token_urlsafe(16)}"
    chunks = []
    for content_id, outcome in parts:
        lines = [f"--{boundary}", "Content-Type: application/http"]
        response_id = response_content_id(content_id)
        if response_id is not None:
            lines.append(f"Content-ID: {response_id}")
        lines += ["", f"HTTP/1.1 {outcome.status} {_phrase(outcome.status)}"]
        text = dumps(outcome.body) if outcome.body is not None else ""
        if outcome.body is not None:
            lines.append("Content-Type: application/json; charset=UTF-8")
        lines += [f"{name}: {value}" for name, value in outcome.headers.items()]
        lines += [f"Content-Length: {len(text.encode('utf-8'))}", "", text]
        chunks.append("\r\n".join(lines))
    body = "\r\n".join([*chunks, f"--{boundary}--", ""])
    return f"multipart/mixed; boundary={boundary}", body.encode("utf-8")


def _phrase(status: int) -> str:
    """The reason phrase of a status code."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def bad_part() -> Outcome:
    """400 for a part that is not an HTTP request to the Calendar API."""
    return Outcome(400, ApiError(400, "badRequest", "Bad Request").body())


def too_many_parts() -> Outcome:
    """400 for a batch of more than 1000 calls (batch guide)."""
    message = f"A batch request cannot contain more than {MAX_PARTS} requests."
    return Outcome(400, ApiError(400, "invalid", message).body())

"""JSON batching (`POST /v1.0/$batch`): up to 20 requests, each answered on its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from calmirror.emulator.graph.errors import GraphError
from calmirror.emulator.graph.messages import GraphRequest, GraphResponse

MAX_REQUESTS = 20  # https://learn.microsoft.com/graph/json-batching
PARTS_AT_ONCE = 4  # https://learn.microsoft.com/answers/questions/1660054 (Graph runs 4 parts at once)


def bad_batch(message: str) -> GraphError:
    """The 400 a malformed batch envelope gets."""
    return GraphError(400, "BadRequest", message)


def parse(body: object, headers: Mapping[str, str]) -> list[tuple[str, GraphRequest]]:
    """The (id, request) pairs of a batch body; parts inherit the envelope's Authorization header."""
    parts = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(parts, list) or not parts:
        raise bad_batch("Invalid batch payload format.")
    if len(parts) > MAX_REQUESTS:
        raise bad_batch(f"The number of batch requests exceeds the limit of {MAX_REQUESTS}.")
    found: list[tuple[str, GraphRequest]] = []
    for part in parts:
        if not isinstance(part, dict) or not all(
            isinstance(part.get(k), str) for k in ("id", "method", "url")
        ):
            raise bad_batch("Each batch request needs a string id, method and url.")
        if part["id"] in {part_id for part_id, _ in found}:
            raise bad_batch(f"Request id '{part['id']}' is used more than once.")
        url = urlsplit(part["url"] if part["url"].startswith("/") else "/" + part["url"])
        part_headers = {str(k): str(v) for k, v in (part.get("headers") or {}).items()}
        if "Authorization" in headers:
            part_headers["Authorization"] = headers["Authorization"]
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        request = GraphRequest(part["method"].upper(), url.path, query, part_headers, part.get("body"))
        found.append((part["id"], request))
    return found


def responses(answers: list[tuple[str, GraphResponse]]) -> dict[str, Any]:
    """The batch answer: every part's own id, status, headers and body (a failing part stops no other)."""
    found = []
    for part_id, answer in answers:
        headers = dict(answer.headers)
        if answer.body is not None:
            headers["Content-Type"] = "application/json"
        entry: dict[str, Any] = {"id": part_id, "status": answer.status, "headers": headers}
        if answer.body is not None:
            entry["body"] = answer.body
        found.append(entry)
    return {"responses": found}

"""Routes for the discovery methods the emulator does not serve: each answers 501 notImplemented."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from googleapiclient.discovery_cache import get_static_doc

from calmirror.emulator.calendar.errors import not_implemented
from calmirror.emulator.calendar.ev_request import ApiRequest, ApiResponse, Route
from calmirror.emulator.calendar.store import Store


def discovery_methods() -> Iterator[dict[str, Any]]:
    """Yield every method of the bundled calendar v3 discovery document, nested resources included."""
    text = get_static_doc("calendar", "v3")
    if text is None:
        raise RuntimeError("google-api-python-client ships no calendar v3 discovery document")
    pending = list(json.loads(text)["resources"].values())
    while pending:
        resource = pending.pop()
        yield from resource.get("methods", {}).values()
        pending += resource.get("resources", {}).values()


def unserved_routes(served: Iterable[Route]) -> tuple[Route, ...]:
    """Return a refusing route for each discovery method that no served route implements."""
    served_ids = {route.method_id for route in served}
    methods = sorted(discovery_methods(), key=lambda m: str(m["id"]))
    return tuple(
        Route(m["httpMethod"], m["path"], m["id"], _refuse) for m in methods if m["id"] not in served_ids
    )


def _refuse(store: Store, req: ApiRequest) -> ApiResponse:
    """Answer that the emulator does not implement this method (a client must not read it as 404)."""
    raise not_implemented(req.method_id)

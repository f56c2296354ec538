"""The bundled calendar v3 discovery document with rootUrl rewritten, so calls and batches go there."""

from __future__ import annotations

import json
from typing import Any

from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc


def calendar_document(api_root: str) -> dict[str, Any]:
    """Return the bundled calendar v3 document pointing at `api_root` (no network)."""
    text = get_static_doc("calendar", "v3")
    if text is None:
        raise RuntimeError("google-api-python-client ships no calendar v3 discovery document")
    document: dict[str, Any] = json.loads(text)
    # new_batch_http_request() builds its URI from rootUrl + batchPath and ignores api_endpoint,
    # so rewriting rootUrl is what sends batches to the same server as every other call.
    document["rootUrl"] = api_root if api_root.endswith("/") else api_root + "/"
    document["baseUrl"] = document["rootUrl"] + document["servicePath"]
    return document


def build_service(document: dict[str, Any], http: Any) -> Any:
    """Build a calendar service object bound to one thread's HTTP object."""
    return build_from_document(document, http=http)

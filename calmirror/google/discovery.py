"""The calendar v3 API built once from the bundled discovery document, shared read-only by every thread."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc


@dataclass(frozen=True)
class CalendarApi:
    """The calendar v3 resources; their requests are sent with each worker thread's own Http.

    googleapiclient builds a resource's methods (and their docstrings) every time `service.events()`
    is called, several milliseconds of CPU per request, and every service holds its own parsed copy
    of the 300 KB document; building the resources once per process avoids both. Requests are built
    without an Http of their own and sent with `execute(http=...)`: httplib2.Http is not thread-safe.
    """

    root: Any  # the service object, for new_batch_http_request()
    events: Any
    calendar_list: Any
    channels: Any


class NoHttp:
    """The shared resources' Http: it refuses to send, so a request sent without a thread's Http fails."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        """Refuse: requests on the shared resources are sent with `execute(http=thread_http)`."""
        raise RuntimeError("a calendar request was sent without its worker thread's Http")


def calendar_api(api_root: str) -> CalendarApi:
    """Build the calendar v3 resources against `api_root` (blocking, a few milliseconds; no network)."""
    service = build_from_document(calendar_document(api_root), http=NoHttp())
    return CalendarApi(
        root=service,
        events=service.events(),
        calendar_list=service.calendarList(),
        channels=service.channels(),
    )


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

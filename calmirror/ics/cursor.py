"""The delta cursor of an ICS feed: the validators of the answer last read and a hash of its body.

The engine holds it as an opaque string; only this module reads or writes it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class FeedCursor:
    """What the last read of a feed answered: ETag, Last-Modified and the SHA-256 of the body."""

    digest: str
    etag: str | None = None
    last_modified: str | None = None

    def encode(self) -> str:
        """Return the cursor as the opaque string the engine keeps."""
        text = json.dumps({"v": 1, **asdict(self)}, separators=(",", ":"), sort_keys=True)
        return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")

    @classmethod
    def decode(cls, cursor: str) -> FeedCursor | None:
        """Return the cursor an encoded string holds, None when it is not one of ours."""
        try:
            data = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        except (ValueError, UnicodeError):
            return None
        if not isinstance(data, dict) or data.get("v") != 1 or not isinstance(data.get("digest"), str):
            return None
        etag, modified = data.get("etag"), data.get("last_modified")
        if not all(value is None or isinstance(value, str) for value in (etag, modified)):
            return None
        return cls(data["digest"], etag, modified)

    def conditions(self) -> dict[str, str]:
        """Return the conditional request headers this cursor allows (none when the server gave none)."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

"""One GET of an ICS feed: conditional, bounded in time and size, its failures translated once.

A feed's address carries its secret token, so nothing here ever puts the address (or an aiohttp
message, which may quote it) into an exception: errors name the feed by the caller's `name`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp
from multidict import CIMultiDictProxy

from calmirror.errors import (
    FEED_NOT_FOUND,
    FEED_REFUSED,
    AuthNeededError,
    ForbiddenError,
    InvalidRequestError,
    NoAnswerError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    TransientError,
    TruncatedDataError,
    UnreadableDataError,
)

MAX_FEED_BYTES = 20 * 1024 * 1024  # far beyond any real calendar's feed; a bound on memory per read
MAX_REDIRECTS = 10
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FeedAnswer:
    """A feed's answer: its body (None for 304 Not Modified) and the validators it came with."""

    body: bytes | None
    etag: str | None = None
    last_modified: str | None = None


async def fetch_feed(
    session: aiohttp.ClientSession,
    url: str,
    *,
    name: str,
    conditions: Mapping[str, str],
    time_limit: float,
    max_bytes: int = MAX_FEED_BYTES,
) -> FeedAnswer:
    """GET the feed (following redirects) with `conditions`; raise the error tree on any failure."""
    headers = {"Accept": "text/calendar, */*;q=0.1", **conditions}
    try:
        async with session.get(
            url,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=time_limit),
            allow_redirects=True,
            max_redirects=MAX_REDIRECTS,
        ) as response:
            if response.status == 304:
                return FeedAnswer(None, *_validators(response.headers))
            if not 200 <= response.status < 300:
                raise status_error(response.status, response.headers, name)
            body = await _body(response, name, max_bytes)
            return FeedAnswer(body, *_validators(response.headers))
    except ProviderError:
        raise
    except aiohttp.TooManyRedirects:
        raise InvalidRequestError(
            f"{name}: more than {MAX_REDIRECTS} redirects", reason="redirects"
        ) from None
    except aiohttp.ClientPayloadError:
        # The body ended before its declared length (or its last chunk): a connection broke.
        raise TruncatedDataError(f"{name}: the answer was cut short", status=200) from None
    except aiohttp.InvalidURL:
        raise InvalidRequestError(f"{name}: the configured address is not a URL", reason="address") from None
    except TimeoutError:
        raise NoAnswerError(f"{name}: no answer within {time_limit:g}s") from None
    except (aiohttp.ClientError, OSError) as error:
        # aiohttp's messages can quote the address: the class name is enough.
        raise NoAnswerError(f"{name}: connection failed ({type(error).__name__})") from None


def status_error(status: int, headers: Mapping[str, str], name: str) -> ProviderError:
    """Return the error for a feed's non-2xx answer, by status alone."""
    text = f"{name}: HTTP {status}"
    if status in {401, 403}:
        # The address is the feed's only credential: a refusal means it was reset or revoked.
        error_class: type[ProviderError] = AuthNeededError if status == 401 else ForbiddenError
        return error_class(f"{text}, the address was refused", status=status, reason=FEED_REFUSED)
    if status in {404, 410}:
        return NotFoundError(f"{text}, no feed at the address", status=status, reason=FEED_NOT_FOUND)
    retry_after = _retry_after(headers)
    if status == 429:
        return RateLimitedError(text, status=status, retry_after=retry_after)
    if status == 408 or status >= 500:
        return TransientError(text, status=status, retry_after=retry_after)
    return InvalidRequestError(text, status=status)


async def _body(response: aiohttp.ClientResponse, name: str, max_bytes: int) -> bytes:
    """Read the (decompressed) body, refusing one larger than `max_bytes` before holding it all."""
    too_large = UnreadableDataError(
        f"{name}: the answer is larger than {max_bytes // (1024 * 1024)} MiB", reason="too_large", status=200
    )
    if response.content_length is not None and response.content_length > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _validators(headers: CIMultiDictProxy[str]) -> tuple[str | None, str | None]:
    """Return the answer's ETag and Last-Modified, when it sent them."""
    return headers.get("ETag"), headers.get("Last-Modified")


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Return a Retry-After given in seconds (a date form is ignored: the policy's backoff applies)."""
    try:
        return max(0.0, float(headers.get("Retry-After", "")))
    except ValueError:
        return None

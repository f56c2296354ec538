"""One account's CalDAV requests through caldav's async client: timed, observed, translated and retried."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from caldav.aio import AsyncDAVClient
from caldav.lib import error as dav_error
from caldav.response import DAVResponse

from calmirror.caldav.errors import WRITES, Operation, from_status, no_answer
from calmirror.errors import AuthNeededError, NoAnswerError, ProviderError
from calmirror.retry import RetryPolicy

# Told of every attempt: (method id, the translated failure or None, seconds); the same shape as
# calmirror.google.client.RequestObserver, so metrics count CalDAV requests the same way.
RequestObserver = Callable[[str, ProviderError | None, float | None], None]
# Every method id a wire tells its observers of, so metrics can show each before its first call.
METHODS = tuple(
    f"caldav.{op}"
    for op in ("discover", "list", "sync", "etags", "multiget", "get", "create", "restore", "remove")
)
XML = 'application/xml; charset="utf-8"'
MULTISTATUS_METHODS = frozenset({"PROPFIND", "REPORT"})  # a success is a 207 multistatus, nothing else


@dataclass(frozen=True)
class Answer:
    """A successful answer: its status, headers and the parsed body (caldav's DAVResponse)."""

    status: int
    headers: Mapping[str, str]
    response: DAVResponse

    @property
    def etag(self) -> str | None:
        """Return the ETag header, None when the server sent none."""
        value = self.headers.get("ETag")
        return str(value) if value else None


def path_of(url: str) -> str:
    """Return a URL's path: the only part of it a message or log line may name."""
    return urlsplit(url).path or "/"


def open_client(url: str, username: str, password: str, timeout: float) -> AsyncDAVClient:
    """Return caldav's async client with its own retries and guesses turned off: calmirror decides those.

    Basic auth is set up front (no 401 round trip, and no unauthenticated probe after a dropped
    connection); HTTP/2 is off so a refused password is not tried a second time; rate limits raise.
    """
    return AsyncDAVClient(
        url=url,
        username=username,
        password=password,
        auth_type="basic",
        timeout=int(max(1, timeout)),
        features={"http.multiplexing": False},
        enable_rfc6764=False,
        rate_limit_handle=False,
    )


class DavWire:
    """Sends one request per attempt; each attempt is observed, each failure translated once."""

    def __init__(
        self, client: AsyncDAVClient, *, account_id: int, retry: RetryPolicy, timeout: float
    ) -> None:
        self.account_id = account_id
        self.needs_reauth: str | None = None
        self._client = client
        self._retry = retry
        self._timeout = timeout
        self._observers: list[RequestObserver] = []

    def observe(self, observer: RequestObserver) -> None:
        """Tell `observer` about every attempt from now on (a retried call is several attempts)."""
        self._observers.append(observer)

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()

    async def send(
        self,
        operation: Operation,
        method: str,
        url: str,
        body: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send a request under the retry policy; raise the translated error of the last attempt.

        A write that once went unanswered and then only failed transiently stays "no answer": the
        unanswered attempt may have been carried out.
        """
        unanswered = False
        if body and not any(name.lower() == "content-type" for name in headers or {}):
            headers = {**(headers or {}), "Content-Type": XML}

        async def attempt() -> Answer:
            nonlocal unanswered
            try:
                return await self._attempt(operation, method, url, body, headers or {})
            except NoAnswerError:
                unanswered = True
                raise
            except ProviderError as exc:
                if unanswered and exc.retryable and operation in WRITES:
                    raise NoAnswerError(
                        f"no answer to an earlier attempt, then {exc}", status=exc.status
                    ) from exc
                raise

        return await self._retry.call(attempt)

    async def _attempt(
        self, operation: Operation, method: str, url: str, body: str, headers: Mapping[str, str]
    ) -> Answer:
        """Send one request and return its answer, or raise its translated error."""
        started = time.monotonic()
        error: ProviderError | None = None
        try:
            answer = await self._request(operation, method, url, body, headers)
        except ProviderError as exc:
            error = exc
            if isinstance(exc, AuthNeededError):
                self.needs_reauth = exc.reason
            raise
        finally:
            for observer in self._observers:
                observer(f"caldav.{operation}", error, time.monotonic() - started)
        self.needs_reauth = None  # the password works again: /health stops asking for a new one
        return answer

    async def _request(
        self, operation: Operation, method: str, url: str, body: str, headers: Mapping[str, str]
    ) -> Answer:
        """Send one request through caldav and translate whatever is not a success."""
        path = path_of(url)
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.request(url, method, body, headers)
        except dav_error.RateLimitError as exc:
            status = exc.status or 429
            raise from_status(
                status, operation, path, account_id=self.account_id, retry_after=exc.retry_after_seconds
            ) from None
        except dav_error.DAVError as exc:
            if exc.status is None:
                raise no_answer(operation, path, exc, self.account_id) from None
            preconditions = tuple(exc.preconditions or ())
            raise from_status(
                exc.status, operation, path, account_id=self.account_id, preconditions=preconditions
            ) from None
        except Exception as exc:  # timeouts, broken connections, the HTTP library's errors, garbage
            raise no_answer(operation, path, exc, self.account_id) from None
        if response.status >= 400:
            preconditions = tuple(dav_error.parse_preconditions(response._raw or None))
            raise from_status(
                response.status, operation, path, account_id=self.account_id, preconditions=preconditions
            )
        if method in MULTISTATUS_METHODS and not _is_multistatus(response):
            # A portal's or proxy's page answered instead: read as "no events" it would delete blocks.
            raise no_answer(operation, path, ValueError("not a multistatus"), self.account_id)
        return Answer(response.status, response.headers, response)


def _is_multistatus(response: DAVResponse) -> bool:
    """Tell whether an answer is a WebDAV multistatus (207 with a DAV:multistatus document)."""
    tree = response.tree
    return response.status == 207 and tree is not None and tree.tag == "{DAV:}multistatus"

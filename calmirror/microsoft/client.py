"""GraphClient: one mailbox's Graph v1.0 requests over aiohttp: bearer tokens, a bound, retries, translation.

Every request carries `Prefer: outlook.timezone="UTC"` (times come back in UTC), at most MAX_IN_FLIGHT
operations on the mailbox are in flight at once (Outlook's limit per app and mailbox; a $batch counts
as up to four, since Graph runs up to four of its parts at once), each call goes
through the one retry policy (calmirror/retry.py, honouring Retry-After), and every failure is
translated once, in calmirror/microsoft/errors.py. A 401 renews the access token once before it counts.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import aiohttp
from yarl import URL

from calmirror.errors import WRONG_MAILBOX, NoAnswerError, ProviderError, TransientError
from calmirror.microsoft.access import GraphAccess
from calmirror.microsoft.bound import MailboxBound
from calmirror.microsoft.calls import (
    UTC_ZONE,
    BatchPart,
    Call,
    GraphCalendar,
    Pages,
    PartAnswer,
    part_json,
    unknown_if_unanswered,
)
from calmirror.microsoft.errors import WRITES, from_status, no_answer, retry_after
from calmirror.microsoft.tokens import TokenSource
from calmirror.retry import RetryPolicy

__all__ = ["METHODS", "BatchPart", "GraphCalendar", "GraphClient", "Pages", "PartAnswer", "RequestObserver"]

# Told of every HTTP request: (method name, the translated failure or None, seconds). A part of a
# $batch is told under its own name with seconds None: the batch is the HTTP request (told as "$batch").
RequestObserver = Callable[[str, ProviderError | None, float | None], None]
METHODS = (
    "token",
    "calendars.list",
    "calendars.get",
    "calendarView.delta",
    "events.list",
    "events.get",
    "events.create",
    "events.update",
    "events.delete",
    "$batch",
    # Graph subscriptions (calmirror/daemon/subscriptions.py)
    "subscriptions.list",
    "subscriptions.create",
    "subscriptions.update",
    "subscriptions.delete",
)
MAX_IN_FLIGHT = 4  # https://learn.microsoft.com/graph/throttling-limits (Outlook: 4 per app and mailbox)
# Graph "dispatches up to four individual requests from a batch to the Outlook service simultaneously",
# and each counts toward the mailbox's concurrency limit
# (https://learn.microsoft.com/answers/questions/1660054): a $batch holds that many of the mailbox's permits.
BATCH_PARTS_AT_ONCE = 4
BATCH_LIMIT = 20  # https://learn.microsoft.com/graph/json-batching
PAGE_SIZE = 200
# A read follows at most this many pages (100,000 events at PAGE_SIZE; the blocks listing is uncapped)
# and never the same link twice: a proxy or Graph answering a link that loops would otherwise hold the
# calendar's read forever.
MAX_PAGES = 500


class GraphClient:
    """One account's Graph client (its mailbox: /me, or /users/{email} for app-only access)."""

    def __init__(
        self,
        access: GraphAccess,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        max_in_flight: int = MAX_IN_FLIGHT,
        page_size: int = PAGE_SIZE,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self.access = access
        self.account_id = access.account_id
        self.mailbox = access.mailbox
        self.page_size = page_size
        self.max_pages = max_pages
        self._tokens = TokenSource(access)
        self._retry = retry or RetryPolicy()
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._slots = MailboxBound(max_in_flight)
        self._session: aiohttp.ClientSession | None = None
        self._observers: list[RequestObserver] = []

    def __repr__(self) -> str:
        """Name the account, never its secrets."""
        return f"GraphClient({self.access!r})"

    @property
    def needs_reauth(self) -> str | None:
        """Return why the token endpoint refused the account's grant (a person must act), else None."""
        return self._tokens.needs_reauth

    def observe(self, observer: RequestObserver) -> None:
        """Tell `observer` of every request from now on (a retried call is several requests)."""
        self._observers.append(observer)

    def calendar_path(self, calendar_id: str) -> str:
        """Return a calendar's path: "primary" is the mailbox's default calendar."""
        if calendar_id == "primary":
            return f"{self.mailbox}/calendar"
        return f"{self.mailbox}/calendars/{calendar_id}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        name: str = "graph",
    ) -> Any:
        """Send one call under the retry policy; return its JSON (None for 204) or raise its error.

        A write that once went unanswered and then only failed transiently stays "no answer": the
        unanswered attempt may have been carried out.
        """
        unanswered = False
        call = Call(name, method, path, params, json, headers)

        async def attempt() -> Any:
            nonlocal unanswered
            try:
                return await self._attempt(call)
            except NoAnswerError:
                unanswered = True
                raise
            except ProviderError as exc:
                if unanswered and exc.retryable and name in WRITES:
                    raise NoAnswerError(
                        f"no answer to an earlier attempt, then {exc}", status=exc.status
                    ) from exc
                raise

        return await self._retry.call(attempt)

    async def pages(
        self, path: str, *, name: str, params: Mapping[str, str] | None = None, capped: bool = True
    ) -> Pages:
        """Read a collection page by page (@odata.nextLink) to its end or to its @odata.deltaLink.

        Paging that does not end (a link seen before, or, when `capped`, more than max_pages pages) is
        a transient failure of the whole read: a partial read settles nothing. A collection that only
        grows with the years (calmirror's blocks) is read uncapped; the repeated link still ends a loop.
        """
        items: list[dict[str, Any]] = []
        prefer = {"Prefer": f"{UTC_ZONE}, odata.maxpagesize={self.page_size}"}
        link, query = path, params
        followed: set[str] = set()
        while True:
            if link in followed or (capped and len(followed) >= self.max_pages):
                why = "a link repeats" if link in followed else f"over {self.max_pages} pages"
                raise TransientError(f"{name}: paging did not end ({why})", account_id=self.account_id)
            followed.add(link)
            answer = await self.request("GET", link, params=query, headers=prefer, name=name)
            value = answer.get("value") if isinstance(answer, dict) else None
            if not isinstance(value, list):
                # A portal's page read as "no events" would delete blocks: a failed read instead.
                raise no_answer(name, ValueError("not a Graph collection"), self.account_id)
            items.extend(item for item in value if isinstance(item, dict))
            following = answer.get("@odata.nextLink")
            if not isinstance(following, str):
                delta = answer.get("@odata.deltaLink")
                return Pages(tuple(items), delta if isinstance(delta, str) else None)
            link, query = following, None

    async def signed_in_address(self) -> str:
        """Return the address of the user the mailbox path names (`mail`, else `userPrincipalName`)."""
        answer = await self.request("GET", self.mailbox, name="users.get")
        found = answer.get("mail") or answer.get("userPrincipalName") if isinstance(answer, dict) else None
        return str(found or "")

    async def verify_mailbox(self) -> None:
        """Refuse the account from now on when its grant signed in as another mailbox than its address.

        The engine decides by the address which meetings invite a calendar: acting as someone else's
        mailbox would silently mirror the wrong meetings. One request; a refusal or an unreachable Graph
        leaves the check to the grant's own errors.
        """
        if self.access.app_only or self.needs_reauth is not None:
            return
        try:
            address = await self.signed_in_address()
        except ProviderError:
            return
        if address and address.casefold() != self.access.email.casefold():
            self._tokens.needs_reauth = WRONG_MAILBOX

    async def list_calendars(self) -> list[GraphCalendar]:
        """Return the mailbox's calendars with the account's write access and which one is the default."""
        pages = await self.pages(f"{self.mailbox}/calendars", name="calendars.list")
        return [
            GraphCalendar(
                id=str(item.get("id") or ""),
                name=str(item.get("name") or ""),
                can_edit=bool(item.get("canEdit", False)),
                is_default=bool(item.get("isDefaultCalendar", False)),
            )
            for item in pages.items
        ]

    async def batch(self, parts: Sequence[BatchPart]) -> list[PartAnswer]:
        """Send parts as $batch requests of at most BATCH_LIMIT, one after the other; answers in order.

        Parts that failed transiently (429, 5xx) are sent again under the retry policy, waiting for
        the longest Retry-After they carried; the others keep their answer.
        """
        answers: list[PartAnswer] = [PartAnswer() for _ in parts]
        pending, unanswered = list(range(len(parts))), set[int]()

        async def send_pending() -> None:
            nonlocal pending
            for start in range(0, len(pending), BATCH_LIMIT):
                chunk = pending[start : start + BATCH_LIMIT]
                for i, answer in zip(chunk, await self._send_batch([parts[i] for i in chunk]), strict=True):
                    answers[i] = answer
                    if isinstance(answer.error, NoAnswerError):
                        unanswered.add(i)
            failed = [e for i in pending if (e := answers[i].error) is not None and e.retryable]
            pending = [i for i in pending if (e := answers[i].error) is not None and e.retryable]
            if failed:
                raise max(failed, key=lambda e: e.retry_after or 0.0)

        with contextlib.suppress(ProviderError):  # retries exhausted: each answer holds its last error
            await self._retry.call(send_pending)
        return [
            unknown_if_unanswered(a, parts[i].name) if i in unanswered else a for i, a in enumerate(answers)
        ]

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _send_batch(self, parts: list[BatchPart]) -> list[PartAnswer]:
        """Send one $batch request; a failure of the whole batch becomes every part's error."""
        requests = [part_json(str(n), part) for n, part in enumerate(parts)]
        try:
            call = Call("$batch", "POST", "/$batch", body={"requests": requests})
            envelope = await self._attempt(call, permits=min(len(parts), BATCH_PARTS_AT_ONCE))
        except ProviderError as error:
            return [PartAnswer(error=error)] * len(parts)
        responses = envelope.get("responses") if isinstance(envelope, dict) else None
        if not isinstance(responses, list):  # an envelope that is not a batch answer
            failed = no_answer("$batch", ValueError("not a batch answer"), self.account_id)
            return [PartAnswer(error=failed)] * len(parts)
        by_id = {str(r.get("id")): r for r in responses if isinstance(r, dict)}
        answers = [self._part_answer(part, by_id.get(str(n))) for n, part in enumerate(parts)]
        for part, answer in zip(parts, answers, strict=True):
            self._tell(part.name, answer.error, None)
        return answers

    def _part_answer(self, part: BatchPart, entry: Mapping[str, Any] | None) -> PartAnswer:
        """Translate one part's entry of a batch answer."""
        status = entry.get("status") if entry is not None else None
        if entry is None or not isinstance(status, int):
            return PartAnswer(error=no_answer(part.name, ValueError("part missing"), self.account_id))
        body = entry.get("body")
        if status < 400:
            return PartAnswer(body=body)
        headers = {str(k).lower(): str(v) for k, v in (entry.get("headers") or {}).items()}
        wait = retry_after(headers.get("retry-after"))
        return PartAnswer(error=from_status(status, body, part.name, self.account_id, wait))

    async def _attempt(self, call: Call, *, permits: int = 1) -> Any:
        """Send one request (and once more with a renewed token after a 401); raise its translated error.

        It holds `permits` of the mailbox's bound while in flight (a batch: its parts run at once).
        """
        for renewed in (False, True):
            token = await self._tokens.token(self._open(), self._told_token)
            status, answer, wait = await self._send(call, token, permits)
            if status == 401 and not renewed:
                self._tokens.invalidate(token)
                continue
            if status >= 400:
                raise from_status(status, answer, call.name, self.account_id, wait)
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(self, call: Call, token: str, permits: int) -> tuple[int, Any, float | None]:
        """Send one HTTP request within the mailbox's bound; return (status, JSON or None, Retry-After)."""
        path = call.path
        url = URL(path, encoded=True) if path.startswith("http") else URL(self.access.graph_root + path)
        headers = {"Authorization": f"Bearer {token}", "Prefer": UTC_ZONE, **(call.headers or {})}
        async with self._slots.hold(permits):
            started = time.monotonic()
            try:
                status, answer, wait = await self._exchange(call, url, headers)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                failed = no_answer(call.name, exc, self.account_id)
                self._tell(call.name, failed, time.monotonic() - started)
                raise failed from None
        failure = from_status(status, answer, call.name, self.account_id, wait) if status >= 400 else None
        self._tell(call.name, failure, time.monotonic() - started)
        return status, answer, wait

    async def _exchange(self, call: Call, url: URL, headers: dict[str, str]) -> tuple[int, Any, float | None]:
        """Make the HTTP exchange; a success must be JSON (or empty), an error's body may be anything."""
        session = self._open()
        request = session.request(call.method, url, params=call.params, json=call.body, headers=headers)
        async with request as response:
            status, raw = response.status, await response.read()
            wait = retry_after(response.headers.get("Retry-After"))
        try:
            return status, (json.loads(raw) if raw else None), wait
        except ValueError:
            if status < 400:
                raise
            return status, None, wait

    def _told_token(self, error: ProviderError | None, seconds: float) -> None:
        """Tell observers of one token request."""
        self._tell("token", error, seconds)

    def _tell(self, name: str, error: ProviderError | None, seconds: float | None) -> None:
        """Report one request to the observers."""
        for observer in self._observers:
            observer(name, error, seconds)

    def _open(self) -> aiohttp.ClientSession:
        """Return the HTTP session, made on first use (inside the running event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

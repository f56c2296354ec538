"""POSTs to subscription listeners: the validation request and notifications retried in the background.

https://learn.microsoft.com/graph/change-notifications-delivery-webhooks: the listener must echo the
validation token as text/plain within 10 seconds; a failed notification is retried with backoff.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

VALIDATION_SECONDS = 10.0  # the listener must echo the validation token within 10 seconds


@dataclass(frozen=True)
class Delivery:
    """One POST of a notification (or validation) to a listener, for tests."""

    subscription_id: str
    kind: str  # a changeType, a lifecycle event, or "validation"
    status: int  # 0 when the connection failed


@dataclass
class Webhooks:
    """The HTTP session, the background deliveries and their record."""

    retry_base_seconds: float = 0.1
    max_attempts: int = 4
    deliveries: list[Delivery] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _session: aiohttp.ClientSession | None = None

    async def validate(self, sub_id: str, url: str) -> bool:
        """POST `?validationToken=` to a listener: it must answer 200 text/plain with the token."""
        token = (
            f"Validation: Testing client application reachability for subscription Request-Id: {uuid.uuid4()}"
        )
        try:
            async with self._client().post(
                url,
                params={"validationToken": token},
                data=b"",
                headers={"Content-Type": "text/plain; charset=utf-8"},
                timeout=aiohttp.ClientTimeout(total=VALIDATION_SECONDS),
            ) as response:
                text, status = await response.text(), response.status
                plain = response.content_type == "text/plain"
        except (TimeoutError, aiohttp.ClientError):
            text, status, plain = "", 0, False
        self.deliveries.append(Delivery(sub_id, "validation", status))
        return status == 200 and plain and text == token

    def send(self, sub_id: str, url: str, body: Any, kind: str, live: Callable[[], bool]) -> None:
        """POST one notification in the background; the API answer never waits for it."""
        task = asyncio.get_running_loop().create_task(self._deliver(sub_id, url, body, kind, live))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, sub_id: str, url: str, body: Any, kind: str, live: Callable[[], bool]) -> None:
        """POST with retries (backoff) until a 2xx, or give up after max_attempts or once not `live`."""
        for attempt in range(self.max_attempts):
            if attempt:
                await asyncio.sleep(self.retry_base_seconds * 2 ** (attempt - 1))
            if not live():
                return  # deleted or expired meanwhile: nothing more is sent
            try:
                async with self._client().post(url, json=body) as response:
                    status = response.status
            except (TimeoutError, aiohttp.ClientError):
                status = 0
            self.deliveries.append(Delivery(sub_id, kind, status))
            if 200 <= status < 300:
                return

    def _client(self) -> aiohttp.ClientSession:
        """The shared HTTP session for validations and notifications."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self._session

    async def drain(self) -> None:
        """Wait until every queued notification was delivered or given up (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel pending deliveries and close the HTTP session."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

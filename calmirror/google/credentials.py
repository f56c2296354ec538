"""google-auth user credentials per account, refreshed by one worker thread at a time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from google.oauth2.credentials import Credentials

from calmirror.config import GoogleAccount

# google-auth refreshes 3 min 45 s before expiry; a token living shorter than twice that would be
# refreshed before every request (and again inside the same request), so the margin shrinks for it.
REFRESH_MARGIN = timedelta(minutes=3, seconds=45)


class SharedCredentials(Credentials):
    """Credentials shared by an account's worker threads; refreshes are serialised under one lock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
        self._refresh_lock = threading.RLock()
        self._lifetime = REFRESH_MARGIN * 2

    @property
    def expired(self) -> bool:
        """Whether the token is within its refresh margin of expiry (never, without an expiry)."""
        expiry: datetime | None = self.expiry
        if expiry is None:
            return False
        return _utcnow() >= expiry - min(REFRESH_MARGIN, self._lifetime / 2)

    def refresh(self, request: Any) -> None:
        """Refresh the access token, one thread at a time."""
        with self._refresh_lock:
            super().refresh(request)  # type: ignore[no-untyped-call]
            if self.expiry is not None:
                self._lifetime = self.expiry - _utcnow()

    def before_request(self, request: Any, method: str, url: str, headers: dict[str, str]) -> None:
        """Refresh when due (once, however many threads notice), then let google-auth apply the token."""
        self.ensure_valid(request)
        super().before_request(request, method, url, headers)  # type: ignore[no-untyped-call]

    def ensure_valid(self, request: Any) -> None:
        """Refresh unless another thread already did."""
        with self._refresh_lock:
            if not self.valid:
                self.refresh(request)


def _utcnow() -> datetime:
    """Return naive UTC now, the form google-auth keeps `expiry` in."""
    return datetime.now(UTC).replace(tzinfo=None)


def credentials_for(account: GoogleAccount, token_uri: str) -> SharedCredentials:
    """Build the account's refreshable credentials against `token_uri` (no access token yet)."""
    # Constructed directly: from_authorized_user_info ignores token_uri (google-auth issue #1062).
    return SharedCredentials(
        token=None,
        refresh_token=account.refresh_token.get_secret_value(),
        token_uri=token_uri,
        client_id=account.client_id,
        client_secret=account.client_secret.get_secret_value(),
    )

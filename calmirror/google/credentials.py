"""google-auth user credentials per account, refreshed by one worker thread at a time."""

from __future__ import annotations

import threading
from typing import Any

from google.oauth2.credentials import Credentials

from calmirror.config import Account


class SharedCredentials(Credentials):
    """Credentials shared by an account's worker threads; refreshes are serialised under one lock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
        self._refresh_lock = threading.RLock()

    def refresh(self, request: Any) -> None:
        """Refresh the access token, one thread at a time."""
        with self._refresh_lock:
            super().refresh(request)  # type: ignore[no-untyped-call]

    def before_request(self, request: Any, method: str, url: str, headers: dict[str, str]) -> None:
        """Refresh when invalid (once, however many threads notice), then let google-auth apply the token."""
        self.ensure_valid(request)
        super().before_request(request, method, url, headers)  # type: ignore[no-untyped-call]

    def ensure_valid(self, request: Any) -> None:
        """Refresh unless another thread already did."""
        with self._refresh_lock:
            if not self.valid:
                self.refresh(request)


def credentials_for(account: Account, token_uri: str) -> SharedCredentials:
    """Build the account's refreshable credentials against `token_uri` (no access token yet)."""
    # Constructed directly: from_authorized_user_info ignores token_uri (google-auth issue #1062).
    return SharedCredentials(
        token=None,
        refresh_token=account.refresh_token.get_secret_value(),
        token_uri=token_uri,
        client_id=account.client_id,
        client_secret=account.client_secret.get_secret_value(),
    )

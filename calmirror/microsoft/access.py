"""GraphAccess: what one Microsoft account needs to reach Graph, with its secrets kept out of every repr."""

from __future__ import annotations

from dataclasses import dataclass

GRAPH_ROOT = "https://graph.microsoft.com/v1.0"
LOGIN_URL = "https://login.microsoftonline.com"


@dataclass(frozen=True)
class GraphAccess:
    """One account's Graph roots, app registration and grant: delegated (a refresh token) or app-only."""

    account_id: int
    email: str
    client_id: str
    client_secret: str | None = None
    refresh_token: str | None = None  # None when app-only (client credentials)
    app_only: bool = False
    tenant_id: str = "common"
    graph_root: str = GRAPH_ROOT
    login_url: str = LOGIN_URL

    def __repr__(self) -> str:
        """Name the account, never its client secret or refresh token."""
        grant = "app" if self.app_only else "delegated"
        return (
            f"GraphAccess(account_id={self.account_id}, email={self.email!r}, {grant}, "
            f"tenant_id={self.tenant_id!r}, graph_root={self.graph_root!r})"
        )

    __str__ = __repr__

    @property
    def token_url(self) -> str:
        """Return the tenant's v2.0 token endpoint."""
        return f"{self.login_url.rstrip('/')}/{self.tenant_id}/oauth2/v2.0/token"

    @property
    def mailbox(self) -> str:
        """Return the path of the account's mailbox: /me when delegated, /users/{email} when app-only."""
        return f"/users/{self.email}" if self.app_only else "/me"

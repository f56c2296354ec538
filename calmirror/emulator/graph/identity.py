"""The identity platform's v2.0 token endpoint: rotating refresh tokens, client credentials, sign-ins."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from calmirror.emulator.graph.errors import GraphError, TokenError
from calmirror.emulator.graph.signin import DEVICE_GRANT, SignIns, granted_scope

GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"


@dataclass(frozen=True)
class Client:
    """A registered application: its id and secret."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class Grant:
    """Who an access token acts for: a user (delegated) or the application (app-only, `user` None)."""

    client_id: str
    user: str | None
    expires: float


UNKNOWN = (70000, "The provided value for the input parameter 'refresh_token' is not valid.")
REVOKED = (50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed.")


class Identity:
    """Clients, users' refresh tokens and the access tokens handed out.

    Like the real identity platform, redeeming a refresh token returns a new one but does not revoke the
    old: every token stays valid until its user's tokens are revoked
    (https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens). `redeemed` records which
    token each refresh used, so a test can tell that a client moves on to the newest.
    """

    def __init__(self, *, token_ttl_seconds: int = 3600, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.ttl = token_ttl_seconds
        self.clients: dict[str, Client] = {}
        self.refresh_tokens: dict[str, tuple[str, str]] = {}  # live token -> (client id, user)
        self.revoked: set[str] = set()
        # Refresh tokens of public-client sign-ins (no secret sent), which Microsoft redeems without one.
        self.public: set[str] = set()
        self.redeemed: list[str] = []  # the refresh token each successful refresh used, in order
        self.access: dict[str, Grant] = {}
        self.signins = SignIns(clock)

    def add_client(self) -> Client:
        """Register an application and return its credentials."""
        client = Client(str(uuid.uuid4()), secrets.token_urlsafe(30))
        self.clients[client.client_id] = client
        return client

    def issue_refresh_token(self, client: Client, user: str) -> str:
        """A refresh token for a user of a client, as if the user had just consented."""
        token = "0.A" + secrets.token_urlsafe(48)
        self.refresh_tokens[token] = (client.client_id, user.lower())
        return token

    def revoke(self, user: str) -> None:
        """Revoke a user's refresh tokens and access tokens (a password reset or an admin's revoke)."""
        for token, (_, owner) in list(self.refresh_tokens.items()):
            if owner == user.lower():
                del self.refresh_tokens[token]
                self.revoked.add(token)
        self.access = {k: g for k, g in self.access.items() if g.user != user.lower()}

    def token(self, form: Mapping[str, str]) -> dict[str, Any]:
        """Answer a token request (refresh_token or client_credentials grant) or raise TokenError."""
        client = self.client(form.get("client_id", ""))
        grant = form.get("grant_type")
        # A public client (device code, or authorization code with PKCE, "Allow public client flows") may
        # leave the secret out, also when it redeems a refresh token it was given so.
        signs_in = grant in (DEVICE_GRANT, "authorization_code")
        public_refresh = grant == "refresh_token" and form.get("refresh_token", "") in self.public
        public = (signs_in or public_refresh) and "client_secret" not in form
        if not public and not secrets.compare_digest(form.get("client_secret", ""), client.client_secret):
            raise TokenError(401, "invalid_client", 7000215, "Invalid client secret provided.")
        if grant == "client_credentials":
            if form.get("scope") != GRAPH_DEFAULT_SCOPE:
                raise TokenError(400, "invalid_scope", 1002012, "The provided value for scope is not valid.")
            return self._answer(Grant(client.client_id, None, 0), GRAPH_DEFAULT_SCOPE, refresh=None)
        if grant == "refresh_token":
            return self._refresh(client, form.get("refresh_token", ""), form.get("scope", ""))
        if grant == DEVICE_GRANT:
            user, scope = self.signins.redeem_device(form.get("device_code", ""), client.client_id)
            return self._signed_in(client, user, scope, public=public)
        if grant == "authorization_code":
            return self._signed_in(client, *self.signins.redeem_code(form, client.client_id), public=public)
        raise TokenError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")

    def _refresh(self, client: Client, token: str, scope: str) -> dict[str, Any]:
        """Redeem a refresh token: the answer carries a new one; the redeemed one stays valid too."""
        holder = self.refresh_tokens.get(token)
        if holder is None or holder[0] != client.client_id:
            code, text = REVOKED if token in self.revoked else UNKNOWN
            raise TokenError(400, "invalid_grant", code, text)
        self.redeemed.append(token)
        user = holder[1]
        successor = "0.A" + secrets.token_urlsafe(48)
        self.refresh_tokens[successor] = (client.client_id, user)
        if token in self.public:
            self.public.add(successor)
        return self._answer(
            Grant(client.client_id, user, 0), scope or "Calendars.ReadWrite", refresh=successor
        )

    def _signed_in(self, client: Client, user: str, requested: str, *, public: bool) -> dict[str, Any]:
        """Tokens for a user who just signed in: a refresh token too when `offline_access` was asked for."""
        scope, offline = granted_scope(requested)
        refresh = self.issue_refresh_token(client, user) if offline else None
        if refresh is not None and public:
            self.public.add(refresh)
        return self._answer(Grant(client.client_id, user, 0), scope, refresh=refresh)

    def client(self, client_id: str) -> Client:
        """A registered client, or the error the identity platform answers for an unknown one."""
        found = self.clients.get(client_id)
        if found is None:
            raise TokenError(
                400, "unauthorized_client", 700016, "Application was not found in the directory."
            )
        return found

    def user_of(self, form: Mapping[str, str]) -> str | None:
        """The user a token request acts for, when its refresh token names one (for the request log)."""
        holder = self.refresh_tokens.get(form.get("refresh_token", ""))
        return holder[1] if holder is not None else None

    def peek(self, authorization: str | None) -> Grant | None:
        """The grant of a bearer header, or None (no error): for naming a call before answering it."""
        try:
            return self.grant_for(authorization)
        except GraphError:
            return None

    def _answer(self, grant: Grant, scope: str, *, refresh: str | None) -> dict[str, Any]:
        """A successful token answer with a new bearer access token."""
        access = "eyJ0eXAiOiJKV1QifQ." + secrets.token_urlsafe(64)
        self.access[access] = Grant(grant.client_id, grant.user, self.clock() + self.ttl)
        answer: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": scope,
            "expires_in": self.ttl,
            "ext_expires_in": self.ttl,
            "access_token": access,
        }
        if refresh is not None:
            answer["refresh_token"] = refresh
        return answer

    def grant_for(self, authorization: str | None) -> Grant:
        """The grant a request's `Authorization: Bearer` header carries, or Graph's 401."""
        scheme, _, token = (authorization or "").partition(" ")
        grant = self.access.get(token) if scheme.lower() == "bearer" else None
        if grant is None or grant.expires <= self.clock():
            raise GraphError(
                401, "InvalidAuthenticationToken", "Access token is empty, expired or not valid."
            )
        return grant

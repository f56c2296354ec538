"""Google's OAuth 2.0 token and authorization endpoints for the emulator's fake accounts (OAuth guide)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
CODE_TTL_SECONDS = 600.0


@dataclass(frozen=True)
class AccountCredentials:
    """The fake OAuth client and refresh token generated for one account."""

    client_id: str
    client_secret: str
    refresh_token: str


@dataclass
class _Grant:
    """A refresh token: who granted it, to which client, for which scope."""

    email: str
    client_id: str
    scope: str
    revoked: bool = False


@dataclass
class _Code:
    """An authorization code waiting to be exchanged (PKCE S256)."""

    email: str
    client_id: str
    redirect_uri: str
    scope: str
    challenge: str
    method: str
    expires_at: float


@dataclass
class _AccessToken:
    """An issued access token and when it stops working."""

    email: str
    grant: _Grant
    expires_at: float


class OAuthError(Exception):
    """A token-endpoint error: `{"error": ..., "error_description": ...}` with an HTTP status."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        """Return the OAuth error JSON body."""
        return {"error": self.error, "error_description": self.description}


def _invalid_grant(description: str = "Token has been expired or revoked.") -> OAuthError:
    """The canonical answer for an unknown, revoked or expired grant (OAuth guide)."""
    return OAuthError(400, "invalid_grant", description)


def pkce_challenge(verifier: str) -> str:
    """Return the S256 code challenge of a verifier (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class OAuthServer:
    """Clients, refresh tokens, access tokens and authorization codes of every account."""

    token_ttl_seconds: int = 3600
    clock: Callable[[], float] = time.monotonic
    credentials: dict[str, AccountCredentials] = field(default_factory=dict)
    _clients: dict[str, tuple[str, str]] = field(default_factory=dict)  # client_id -> (secret, email)
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _tokens: dict[str, _AccessToken] = field(default_factory=dict)
    _codes: dict[str, _Code] = field(default_factory=dict)

    def add_account(self, email: str) -> AccountCredentials:
        """Generate a client and a refresh token (scope calendar) for an account."""
        client_id = f"{secrets.token_hex(6)}-{secrets.token_hex(12)}.apps.googleusercontent.com"
        secret = f"GOCSPX-{secrets.token_urlsafe(21)}"
        self._clients[client_id] = (secret, email)
        refresh = self._new_grant(email, client_id, CALENDAR_SCOPE)
        creds = AccountCredentials(client_id, secret, refresh)
        self.credentials[email] = creds
        return creds

    def revoke(self, email: str) -> None:
        """Revoke every grant of an account and the access tokens issued from them."""
        if email not in self.credentials:
            raise KeyError(email)
        for grant in self._grants.values():
            if grant.email == email:
                grant.revoked = True
        self._tokens = {k: t for k, t in self._tokens.items() if t.email != email}

    def authenticate(self, token: str) -> str | None:
        """Return the account of a live access token, or None."""
        found = self._tokens.get(token)
        if found is None or found.grant.revoked or self.clock() >= found.expires_at:
            return None
        return found.email

    def account_for_client(self, client_id: str) -> str | None:
        """Return the account whose client this is, or None for an unknown client."""
        client = self._clients.get(client_id)
        return client[1] if client else None

    def authorize(self, params: Mapping[str, str]) -> str:
        """Auto-approve an authorization request and return the code (installed-app loopback flow)."""
        client_id = params.get("client_id", "")
        if client_id not in self._clients:
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        if params.get("response_type") != "code":
            raise OAuthError(400, "unsupported_response_type", "Invalid response_type.")
        method = params.get("code_challenge_method", "plain" if params.get("code_challenge") else "")
        if method not in ("", "S256", "plain"):
            raise OAuthError(400, "invalid_request", "Invalid code_challenge_method.")
        hint = params.get("login_hint", "")
        email = hint if hint in self.credentials else self._clients[client_id][1]  # else the client's account
        code = f"4/0A{secrets.token_urlsafe(32)}"
        self._codes[code] = _Code(
            email=email,
            client_id=client_id,
            redirect_uri=params.get("redirect_uri", ""),
            scope=params.get("scope", CALENDAR_SCOPE),
            challenge=params.get("code_challenge", ""),
            method=method,
            expires_at=self.clock() + CODE_TTL_SECONDS,
        )
        return code

    def token(self, form: Mapping[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        """Answer a token request (refresh_token or authorization_code grant) or raise OAuthError."""
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        client = self._clients.get(client_id)
        if client is None:
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        if not secrets.compare_digest(client[0], secret):
            raise OAuthError(401, "invalid_client", "Unauthorized")
        grant_type = form.get("grant_type", "")
        if grant_type == "refresh_token":
            return self._refresh(client_id, form)
        if grant_type == "authorization_code":
            return self._exchange(client_id, form)
        raise OAuthError(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _refresh(self, client_id: str, form: Mapping[str, str]) -> dict[str, Any]:
        """Issue an access token for a live refresh token of this client."""
        grant = self._grants.get(form.get("refresh_token", ""))
        if grant is None or grant.revoked or grant.client_id != client_id:
            raise _invalid_grant()
        requested = form.get("scope", "").split()
        if any(s not in grant.scope.split() for s in requested):
            raise OAuthError(400, "invalid_scope", "Some requested scopes were invalid.")
        return self._issue(grant, " ".join(requested) or grant.scope)

    def _exchange(self, client_id: str, form: Mapping[str, str]) -> dict[str, Any]:
        """Exchange an authorization code (once) for access and refresh tokens, checking PKCE."""
        code = self._codes.pop(form.get("code", ""), None)
        if code is None or code.client_id != client_id or self.clock() >= code.expires_at:
            raise _invalid_grant("Malformed auth code.")
        if code.redirect_uri != form.get("redirect_uri", ""):
            raise OAuthError(400, "redirect_uri_mismatch", "Bad Request")
        verifier = form.get("code_verifier", "")
        if code.challenge:
            if not verifier:
                raise _invalid_grant("Missing code verifier.")
            expected = pkce_challenge(verifier) if code.method == "S256" else verifier
            if not _same(expected, code.challenge):
                raise _invalid_grant("Invalid code verifier.")
        refresh = self._new_grant(code.email, client_id, code.scope)
        answer = self._issue(self._grants[refresh], code.scope)
        answer["refresh_token"] = refresh
        return answer

    def _new_grant(self, email: str, client_id: str, scope: str) -> str:
        """Record a grant and return its refresh token."""
        refresh = f"1//0{secrets.token_urlsafe(48)}"
        self._grants[refresh] = _Grant(email, client_id, scope)
        return refresh

    def _issue(self, grant: _Grant, scope: str) -> dict[str, Any]:
        """Mint an access token that expires after the configured lifetime."""
        token = f"ya29.{secrets.token_urlsafe(40)}"
        self._tokens[token] = _AccessToken(grant.email, grant, self.clock() + self.token_ttl_seconds)
        return {
            "access_token": token,
            "expires_in": self.token_ttl_seconds,
            "scope": scope,
            "token_type": "Bearer",
        }


def _same(a: str, b: str) -> bool:
    """Compare two secrets in constant time."""
    return secrets.compare_digest(a.encode(), b.encode())


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """Return (client_id, secret) from an HTTP Basic Authorization header, or None."""
    if not header or not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:]).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, password = decoded.partition(":")
    return unquote_plus(user), unquote_plus(password)

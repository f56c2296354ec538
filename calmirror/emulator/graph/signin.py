"""Interactive sign-in: the device code grant and the authorization code grant with PKCE.

Device code: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code
Authorization code: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from calmirror.emulator.graph.errors import TokenError

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEVICE_CODE_SECONDS = 900  # the identity platform's device codes last 15 minutes
CODE_SECONDS = 600
POLL_INTERVAL = 1  # Microsoft answers 5; the emulator polls faster so tests stay quick
USER_CODE_LETTERS = string.ascii_uppercase + string.digits
OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})


@dataclass(frozen=True)
class DeviceCode:
    """A device code waiting for its user: approved (`user` set), declined, or still pending."""

    client_id: str
    user_code: str
    scope: str
    expires: float
    user: str | None = None
    declined: bool = False


@dataclass(frozen=True)
class AuthCode:
    """An authorization code for a user, bound to its client, redirect URI and PKCE challenge."""

    user: str
    client_id: str
    redirect_uri: str
    scope: str
    challenge: str
    method: str
    expires: float


def pkce_s256(verifier: str) -> str:
    """The S256 code challenge of a verifier (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def is_loopback_or_https(uri: str) -> bool:
    """Whether a redirect URI is one the identity platform accepts: https, or http on the loopback."""
    parts = urlsplit(uri)
    return parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1")
    )


class SignIns:
    """Outstanding device codes (by device code) and authorization codes, each redeemed at most once."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.devices: dict[str, DeviceCode] = {}
        self.codes: dict[str, AuthCode] = {}

    # --- device code -------------------------------------------------------------------------------

    def start_device(self, client_id: str, scope: str) -> tuple[str, DeviceCode]:
        """A new device code and its user code for a client."""
        if not scope.strip():
            raise TokenError(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            )
        user_code = "".join(secrets.choice(USER_CODE_LETTERS) for _ in range(9))
        device = DeviceCode(client_id, user_code, scope, self.clock() + DEVICE_CODE_SECONDS)
        device_code = "DAQABAAEAAAD" + secrets.token_urlsafe(48)
        self.devices[device_code] = device
        return device_code, device

    def settle(self, user_code: str, *, user: str | None = None, declined: bool = False) -> None:
        """Approve (for a user) or decline a pending user code; KeyError if no pending code has it."""
        for device_code, device in self.devices.items():
            if device.user_code == user_code.upper() and device.user is None and not device.declined:
                self.devices[device_code] = replace(device, user=user, declined=declined)
                return
        raise KeyError(user_code)

    def expire(self, user_code: str) -> None:
        """Make a user code's device code expired at once (tests of `expired_token`)."""
        for device_code, device in self.devices.items():
            if device.user_code == user_code.upper():
                self.devices[device_code] = replace(device, expires=self.clock())
                return
        raise KeyError(user_code)

    def redeem_device(self, device_code: str, client_id: str) -> tuple[str, str]:
        """The (user, scope) of an approved device code, used up; else the error the poller gets."""
        device = self.devices.get(device_code)
        if device is None or device.client_id != client_id:
            raise TokenError(400, "bad_verification_code", 70018, "Invalid verification code was entered.")
        if self.clock() >= device.expires:
            del self.devices[device_code]
            raise TokenError(400, "expired_token", 70019, "Verification code expired.")
        if device.declined:
            del self.devices[device_code]
            raise TokenError(
                400, "authorization_declined", 65004, "User declined to consent to access the app."
            )
        if device.user is None:
            raise TokenError(
                400, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending."
            )
        del self.devices[device_code]
        return device.user, device.scope

    # --- authorization code ------------------------------------------------------------------------

    def authorize(self, params: Mapping[str, str], users: Collection[str]) -> str:
        """A code for the user the request names (`login_hint`, else the only mailbox); TokenError if none."""
        if params.get("response_type") != "code":
            raise TokenError(400, "unsupported_response_type", 9002313, "The response_type must be 'code'.")
        redirect = params.get("redirect_uri", "")
        if not is_loopback_or_https(redirect):
            raise TokenError(400, "invalid_request", 50011, "The redirect URI is not loopback http or https.")
        method = params.get("code_challenge_method", "plain" if params.get("code_challenge") else "")
        if method not in ("", "plain", "S256"):
            raise TokenError(400, "invalid_request", 501491, "Invalid code_challenge_method.")
        hint = params.get("login_hint", "").lower()
        user = hint if hint in users else (next(iter(users)) if len(users) == 1 and not hint else None)
        if user is None:
            raise TokenError(
                400, "invalid_request", 50034, "The user account does not exist in the directory."
            )
        code = "1.AXYA" + secrets.token_urlsafe(48)
        self.codes[code] = AuthCode(
            user,
            params.get("client_id", ""),
            redirect,
            params.get("scope", ""),
            params.get("code_challenge", ""),
            method,
            self.clock() + CODE_SECONDS,
        )
        return code

    def redeem_code(self, form: Mapping[str, str], client_id: str) -> tuple[str, str]:
        """The (user, scope) of an authorization code, once, after checking redirect URI and verifier."""
        code = self.codes.pop(form.get("code", ""), None)
        if code is None or code.client_id != client_id or self.clock() >= code.expires:
            raise TokenError(
                400, "invalid_grant", 70008, "The provided authorization code is expired, used or not valid."
            )
        if code.redirect_uri != form.get("redirect_uri", ""):
            raise TokenError(
                400, "invalid_grant", 50011, "The redirect URI does not match the one authorized."
            )
        verifier = form.get("code_verifier", "")
        if code.challenge:
            expected = pkce_s256(verifier) if code.method == "S256" else verifier
            if not verifier or not secrets.compare_digest(expected, code.challenge):
                raise TokenError(
                    400,
                    "invalid_grant",
                    501481,
                    "The code_verifier does not match the code_challenge of the authorization request.",
                )
        return code.user, code.scope


def granted_scope(requested: str) -> tuple[str, bool]:
    """The scope a token answer names (sign-in scopes left out) and whether a refresh token comes with it."""
    names = requested.split()
    return " ".join(n for n in names if n not in OIDC_SCOPES), "offline_access" in names

"""Helpers for tests that talk to the emulator through the real google-api-python-client and google-auth."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import google_auth_httplib2
import httplib2
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc

from calmirror.emulator import Emulator


@cache
def discovery_document() -> dict[str, Any]:
    """Return the calendar v3 discovery document bundled with google-api-python-client."""
    text = get_static_doc("calendar", "v3")
    assert text is not None
    doc: dict[str, Any] = json.loads(text)
    return doc


def credentials(emulator: Emulator, email: str) -> Credentials:
    """Return google-auth user credentials for an emulator account (no access token yet)."""
    account = emulator.accounts[email]
    return Credentials(
        token=None,
        refresh_token=account.refresh_token,
        client_id=account.client_id,
        client_secret=account.client_secret,
        token_uri=emulator.token_uri,
    )


def calendar_service(emulator: Emulator, email: str, *, timeout: float = 10.0) -> Any:
    """Build a real googleapiclient Calendar service whose rootUrl (and batch URI) is the emulator."""
    doc = copy.deepcopy(discovery_document())
    doc["rootUrl"] = emulator.api_root
    http = google_auth_httplib2.AuthorizedHttp(
        credentials(emulator, email), http=httplib2.Http(timeout=timeout)
    )
    return build_from_document(doc, http=http)

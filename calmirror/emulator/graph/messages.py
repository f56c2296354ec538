"""A Graph call and its answer as the emulator's handlers see them (HTTP-free)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GraphRequest:
    """One Graph call: method, path below `/v1.0`, decoded query, headers and parsed JSON body."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: Any = None


@dataclass(frozen=True)
class GraphResponse:
    """One answer: status, JSON body (None for 204) and headers."""

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

"""Everything the emulator serves exists in the bundled discovery document (design.md §8)."""

from __future__ import annotations

from typing import Any

from calmirror.emulator import Emulator
from calmirror.emulator.app import BATCH_PATH
from calmirror.emulator.calendar import api
from calmirror.emulator.routing import QUERY_PARAMS, STANDARD_PARAMS
from tests.discovery_schema import discovery_methods, response_schemas, validate
from tests.emulator_helpers import discovery_document


def _methods() -> dict[str, dict[str, Any]]:
    """Every method of the discovery document by id."""
    return discovery_methods(discovery_document())


def _query_params(method: dict[str, Any]) -> set[str]:
    """The query parameters a discovery method declares."""
    return {k for k, v in method.get("parameters", {}).items() if v["location"] == "query"}


async def test_every_route_is_a_discovery_method(emulator: Emulator) -> None:
    """Each served route has the id, HTTP method and path template of a discovery method (discovery doc)."""
    methods = _methods()
    for route in emulator.router.routes:
        method = methods[route.method_id]
        assert (route.http_method, route.path) == (method["httpMethod"], method["path"]), route.method_id


async def test_every_served_route_declares_its_query_parameters(emulator: Emulator) -> None:
    """The parameters accepted per served method are exactly the discovery ones (discovery doc)."""
    methods = _methods()
    for route in (*api.ROUTES, *emulator.push.routes()):
        assert QUERY_PARAMS[route.method_id] == _query_params(methods[route.method_id]), route.method_id


async def test_every_discovery_method_is_served_or_refused(emulator: Emulator) -> None:
    """The router knows each discovery method (unserved ones answer 501), so none falls through to 404."""
    assert {route.method_id for route in emulator.router.routes} == set(_methods())


def test_parameter_table_matches_discovery() -> None:
    """Each entry of the emulator's parameter table, and every standard parameter, is in the discovery doc."""
    methods = _methods()
    for method_id, params in QUERY_PARAMS.items():
        assert params == _query_params(methods[method_id]), method_id
    assert set(discovery_document()["parameters"]) == STANDARD_PARAMS


def test_batch_path_is_the_discovery_batch_path() -> None:
    """The batch endpoint is served at the document's batchPath (discovery doc)."""
    assert BATCH_PATH.lstrip("/") == discovery_document()["batchPath"]


def test_validator_rejects_what_google_would_not_send() -> None:
    """The schema validator catches wrong types, unknown properties, bad enums and broken items/maps."""
    doc = discovery_document()
    schema = response_schemas(doc)["calendar.events.get"]
    assert schema is not None
    good = {"kind": "calendar#event", "id": "abcde", "start": {"dateTime": "2030-01-01T00:00:00Z"}}
    assert validate(good, schema, doc["schemas"]) == []
    bad = {
        "kind": 1,
        "colour": "red",
        "start": "tomorrow",
        "attendees": [{"email": 5}],
        "extendedProperties": {"private": {"k": 1}},
        "sequence": True,
    }
    errors = validate(bad, schema, doc["schemas"])
    assert len(errors) == 6, errors
    assert validate("party", {"type": "string", "enum": ["default"]}, {}) != []  # parameter enums


def test_channel_expiration_is_a_string_in_the_schema() -> None:
    """The discovery doc types Channel.expiration as an int64 string; the emulator sends it as a string."""
    doc = discovery_document()
    assert validate({"expiration": "1426325213000"}, {"$ref": "Channel"}, doc["schemas"]) == []
    assert validate({"expiration": 1426325213000}, {"$ref": "Channel"}, doc["schemas"]) != []

"""Microsoft Graph v1.0's published model, read from msgraph-sdk's kiota-dom-export.txt."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

PREFIX = "msgraph.generated."
# Kiota's generated members that are plumbing, not JSON properties.
NOT_PROPERTIES = frozenset(
    {"constructor", "get_field_deserializers", "serialize", "additional_data", "backing_store"}
)
GETTER = re.compile(r"^msgraph\.generated\.models\.(\w+)::\|public\|(\w+)(?:\(\))?:([^()]+)$")
PARENT = re.compile(r"^msgraph\.generated\.models\.(\w+)-->(\w+)$")
ENUM = re.compile(r"^msgraph\.generated\.models\.(\w+)::\d{4}-(\w+)$")
BUILDER = re.compile(r"^msgraph\.generated\.([\w.$]+)\.\w+RequestBuilder-->")
BODY = re.compile(r"^msgraph\.generated\.([\w.$]+)\.\w+PostRequestBody::\|public\|(\w+)\(\):([^()]+)$")


@dataclass(frozen=True)
class GraphSchema:
    """The request-builder paths, model properties, model parents and enum members of Graph v1.0."""

    builders: frozenset[str]
    properties: dict[str, dict[str, str]]  # model -> JSON name -> kiota type (`str`, `list[Attendee]`)
    parents: dict[str, str]
    enums: dict[str, tuple[str, ...]]
    bodies: dict[str, dict[str, str]]  # action builder (`users.item.events.item.accept`) -> its POST body

    def body_properties(self, template: str) -> dict[str, str]:
        """The JSON properties (and kiota types) of the POST body an action route takes."""
        return self.bodies.get(dotted(template), {})

    def has_route(self, template: str) -> bool:
        """Whether a path template such as `/users/{id}/calendars/{id}/events` is a Graph request builder."""
        return dotted(template) in self.builders

    def model_properties(self, model: str) -> frozenset[str]:
        """The JSON property names of a model (by its name, any case), inherited ones included."""
        name = self._canonical(model)
        found: set[str] = set()
        while name:
            found |= set(self.properties.get(name, {}))
            name = self.parents.get(name, "")
        return frozenset(found)

    def property_type(self, model: str, prop: str) -> str:
        """The kiota type of a model's property (inherited ones included), e.g. `list[Attendee]`."""
        name = self._canonical(model)
        while name:
            if prop in self.properties.get(name, {}):
                return self.properties[name][prop]
            name = self.parents.get(name, "")
        raise KeyError(f"{model} has no property {prop!r}")

    def is_model(self, name: str) -> bool:
        """Whether a kiota type name is a model with properties."""
        return name in self.properties

    def enum_values(self, enum: str) -> tuple[str, ...]:
        """The JSON values of an enum (kiota's members with a lower-case first letter)."""
        return self.enums[self._canonical(enum)]

    def _canonical(self, model: str) -> str:
        """Kiota's PascalCase name for a model named in any case."""
        for name in (*self.properties, *self.enums):
            if name.lower() == model.lower():
                return name
        raise KeyError(f"Graph has no model {model!r}")


def dotted(template: str) -> str:
    """A path template as kiota's builder path (`/users/{user}/events` -> `users.item.events`)."""
    parts = [p for p in template.strip("/").split("/") if p]
    return ".".join("item" if p.startswith("{") else p for p in parts)


def json_name(kiota: str) -> str:
    """The JSON name kiota serialises a snake_case member as (`show_as` -> `showAs`)."""
    if kiota == "odata_type":
        return "@odata.type"
    head, *rest = kiota.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


@functools.cache
def graph_schema() -> GraphSchema:
    """Read the export once per test session."""
    text = (resources.files("msgraph") / "generated" / "kiota-dom-export.txt").read_text("utf-8")
    builders: set[str] = set()
    properties: dict[str, dict[str, str]] = {}
    parents: dict[str, str] = {}
    enums: dict[str, list[str]] = {}
    bodies: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        if not line.startswith(PREFIX):
            continue
        if (match := BODY.match(line)) and match.group(2) not in NOT_PROPERTIES:
            bodies.setdefault(match.group(1), {})[json_name(match.group(2))] = match.group(3)
        elif match := BUILDER.match(line):
            builders.add(match.group(1))
        elif match := PARENT.match(line):
            parents[match.group(1)] = match.group(2)
        elif match := ENUM.match(line):
            member = match.group(2).rstrip("_")  # kiota escapes Python keywords: `none_` is `none`
            enums.setdefault(match.group(1), []).append(member[:1].lower() + member[1:])
        elif (match := GETTER.match(line)) and match.group(2) not in NOT_PROPERTIES:
            properties.setdefault(match.group(1), {})[json_name(match.group(2))] = match.group(3)
    return GraphSchema(
        frozenset(builders),
        properties,
        parents,
        {name: tuple(values) for name, values in enums.items()},
        bodies,
    )


ANNOTATIONS = ("@odata.",)
COLLECTION_KEYS = frozenset(
    {"value", "@odata.nextLink", "@odata.deltaLink", "@odata.context", "@odata.count"}
)
PRIMITIVES = {
    "str": str,
    "bool": bool,
    "int": int,
    "datetime.datetime": str,
    "datetime.date": str,
    "float": (int, float),
}


def check_value(schema: GraphSchema, kiota_type: str, value: object, where: str) -> list[str]:
    """Problems with a JSON value against a kiota type (models recursively, enums by their values)."""
    if value is None:
        return []
    if kiota_type.startswith("list["):
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        return [
            p
            for i, item in enumerate(value)
            for p in check_value(schema, kiota_type[5:-1], item, f"{where}[{i}]")
        ]
    if kiota_type in PRIMITIVES:
        ok = isinstance(value, PRIMITIVES[kiota_type]) and not (
            kiota_type == "int" and isinstance(value, bool)
        )
        return [] if ok else [f"{where}: {value!r} is not {kiota_type}"]
    if kiota_type in schema.enums:
        return [] if value in schema.enums[kiota_type] else [f"{where}: {value!r} is not a {kiota_type}"]
    if schema.is_model(kiota_type):
        return check_object(schema, kiota_type, value, where)
    return []  # a type the emulator never sends (e.g. a union): nothing to hold it to


def check_object(schema: GraphSchema, model: str, body: object, where: str = "") -> list[str]:
    """Problems with a JSON object against a Graph model: unknown properties, wrong types or enum values."""
    if not isinstance(body, dict):
        return [f"{where or model}: expected an object"]
    known = schema.model_properties(model)
    problems = []
    for key, value in body.items():
        here = f"{where}.{key}" if where else key
        if key.startswith(ANNOTATIONS) and key != "@odata.type":
            continue
        if key not in known:
            problems.append(f"{here}: {model} has no property {key!r}")
            continue
        problems.extend(check_value(schema, schema.property_type(model, key), value, here))
    return problems


def check_response(schema: GraphSchema, body: object) -> list[str]:
    """Problems with one Graph answer: an error, a collection (events, calendars, removals) or an item."""
    if not isinstance(body, dict):
        return [] if body is None else ["answer: not a JSON object"]
    if "error" in body:
        error = body["error"]
        keys = set(error) if isinstance(error, dict) else set()
        return [] if keys == {"code", "message", "innerError"} else [f"error: keys {sorted(keys)}"]
    if "value" in body:
        extra = set(body) - COLLECTION_KEYS
        problems = [f"collection: unexpected keys {sorted(extra)}"] if extra else []
        for i, item in enumerate(body["value"]):
            problems.extend(check_item(schema, item, f"value[{i}]"))
        return problems
    return check_item(schema, body, "")


def check_item(schema: GraphSchema, item: object, where: str) -> list[str]:
    """Problems with one entity: a delta removal, a calendar, a subscription or an event."""
    if isinstance(item, dict) and "@removed" in item:
        return [] if set(item) == {"id", "@removed"} else [f"{where}: removal keys {sorted(item)}"]
    model = "calendar" if isinstance(item, dict) and "isDefaultCalendar" in item else "event"
    if isinstance(item, dict) and "notificationUrl" in item:
        model = "subscription"
    if isinstance(item, dict) and "userPrincipalName" in item:
        model = "user"
    return check_object(schema, model, item, where)


def check_body(schema: GraphSchema, template: str, body: object) -> list[str]:
    """Problems with an action's POST body against Graph's model: unknown properties or wrong types."""
    if not isinstance(body, dict):
        return ["body: expected an object"]
    known = schema.body_properties(template)
    return [
        problem
        for key, value in body.items()
        for problem in (
            check_value(schema, known[key], value, key)
            if key in known
            else [f"{key}: no property of {template}"]
        )
    ]

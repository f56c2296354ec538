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
GETTER = re.compile(r"^msgraph\.generated\.models\.(\w+)::\|public\|(\w+)(?:\(\))?:")
PARENT = re.compile(r"^msgraph\.generated\.models\.(\w+)-->(\w+)$")
ENUM = re.compile(r"^msgraph\.generated\.models\.(\w+)::\d{4}-(\w+)$")
BUILDER = re.compile(r"^msgraph\.generated\.([\w.$]+)\.\w+RequestBuilder-->")


@dataclass(frozen=True)
class GraphSchema:
    """The request-builder paths, model properties, model parents and enum members of Graph v1.0."""

    builders: frozenset[str]
    properties: dict[str, frozenset[str]]
    parents: dict[str, str]
    enums: dict[str, tuple[str, ...]]

    def has_route(self, template: str) -> bool:
        """Whether a path template such as `/users/{id}/calendars/{id}/events` is a Graph request builder."""
        parts = [p for p in template.strip("/").split("/") if p]
        dotted = ".".join("item" if p.startswith("{") else p for p in parts)
        return dotted in self.builders

    def model_properties(self, model: str) -> frozenset[str]:
        """The JSON property names of a model (by its name, any case), inherited ones included."""
        name = self._canonical(model)
        found: set[str] = set()
        while name:
            found |= self.properties.get(name, frozenset())
            name = self.parents.get(name, "")
        return frozenset(found)

    def enum_values(self, enum: str) -> tuple[str, ...]:
        """The JSON values of an enum (kiota's members with a lower-case first letter)."""
        return self.enums[self._canonical(enum)]

    def _canonical(self, model: str) -> str:
        """Kiota's PascalCase name for a model named in any case."""
        for name in (*self.properties, *self.enums):
            if name.lower() == model.lower():
                return name
        raise KeyError(f"Graph has no model {model!r}")


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
    properties: dict[str, set[str]] = {}
    parents: dict[str, str] = {}
    enums: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.startswith(PREFIX):
            continue
        if match := BUILDER.match(line):
            builders.add(match.group(1))
        elif match := PARENT.match(line):
            parents[match.group(1)] = match.group(2)
        elif match := ENUM.match(line):
            member = match.group(2).rstrip("_")  # kiota escapes Python keywords: `none_` is `none`
            enums.setdefault(match.group(1), []).append(member[:1].lower() + member[1:])
        elif (match := GETTER.match(line)) and match.group(2) not in NOT_PROPERTIES:
            properties.setdefault(match.group(1), set()).add(json_name(match.group(2)))
    return GraphSchema(
        frozenset(builders),
        {name: frozenset(props) for name, props in properties.items()},
        parents,
        {name: tuple(values) for name, values in enums.items()},
    )

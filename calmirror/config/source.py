"""The pydantic-settings source: the merged variables, globals by name and each numbered family by N."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from calmirror.config.names import FAMILIES, FAMILY, GLOBALS, Family, parse_numbered


def _put(target: dict[str, Any], path: tuple[str, ...], value: str) -> None:
    """Set `value` at a field path, making the nested dicts on the way."""
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


class VariablesSource(PydanticBaseSettingsSource):
    """Feeds Settings from one merged mapping of variables (sources.py decides which source wins)."""

    def __init__(self, settings_cls: type[BaseSettings], values: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.values = values
        # Per family, the Ns in order: a tuple family's error locations count flows, not Ns.
        self.numbers: dict[str, list[int]] = {}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Not used: __call__ reads every field at once, as families span many variables."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        """Return the input of Settings: each set global under its field, each family's members by N."""
        data: dict[str, Any] = {}
        for name, declared in GLOBALS.items():
            if name in self.values:
                _put(data, declared.path, self.values[name])
        for family in FAMILIES:
            members = self._members(family)
            self.numbers[family.attribute] = sorted(members)
            data[family.attribute] = list(members.values()) if family.as_tuple else members
        return data

    def _members(self, family: Family) -> dict[int, dict[str, Any]]:
        """Group the family's variables by N; a malformed N is left to groups.py to report."""
        members: dict[int, dict[str, Any]] = {}
        for name, value in self.values.items():
            numbered = parse_numbered(name)
            if numbered is None or numbered.family is not family or not numbered.valid_number:
                continue
            declared = family.variables.get(numbered.field)
            if declared is not None:
                n = int(numbered.number)
                _put(members.setdefault(n, {"id": n}), declared.path, value)
        return {n: members[n] for n in sorted(members)}

    def number(self, attribute: str, key: int) -> int:
        """Return the N of a family member from its key in an error location (an index for a tuple)."""
        return self.numbers[attribute][key] if FAMILY[attribute].as_tuple else key

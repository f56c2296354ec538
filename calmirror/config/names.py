"""The variables, read off the declarations in models.py: global names, numbered families, secrets.

Every consumer (the variable source, the typo checker, the problem mapper, .env.example's test) reads
names from here, so a new field or family needs no second list.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeGuard, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from calmirror.config.models import Settings


@dataclass(frozen=True)
class Variable:
    """One variable: its name (the suffix, in a family), its field's path in the model and declaration."""

    name: str
    path: tuple[str, ...]
    field: FieldInfo

    @property
    def refers_to(self) -> str | None:
        """Return the Settings field of the family whose N this variable names (an account id), if any."""
        target = _extra(self.field).get("refers_to")
        return str(target) if target else None

    @property
    def secret(self) -> bool:
        """Say whether the value must never be shown."""
        return SecretStr in (self.field.annotation, *get_args(self.field.annotation))


def _extra(field: FieldInfo) -> dict[str, Any]:
    """Return the field's markers (models.numbered, fields.INLINE, fields.NOT_A_VARIABLE)."""
    return field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}


def _is_model(annotation: object) -> TypeGuard[type[BaseModel]]:
    """Say whether a field's type is a model of its own (whose fields are variables too)."""
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _variables(model: type[BaseModel], prefix: str = "", path: tuple[str, ...] = ()) -> Iterator[Variable]:
    """Yield the variables of a model's fields; a nested model's fields are named under its field."""
    for name, field in model.model_fields.items():
        extra = _extra(field)
        if extra.get("variable") is False or "numbered" in extra:
            continue
        if _is_model(field.annotation):
            inner = prefix if extra.get("inline") else f"{prefix}{name.upper()}_"
            yield from _variables(field.annotation, inner, (*path, name))
        else:
            yield Variable(prefix + name.upper(), (*path, name), field)


@dataclass(frozen=True)
class Family:
    """A numbered family: `PREFIX<N>_<VARIABLE>` variables make one `model` per N in Settings.`attribute`."""

    prefix: str
    attribute: str
    model: type[BaseModel]
    variables: Mapping[str, Variable]
    as_tuple: bool  # Settings holds the family as a tuple in N order, else as a mapping by N
    provider: str | None  # an account family's provider ("google", "caldav", ...), else None

    def members(self, n: int | str) -> str:
        """Return how a problem names all variables of member n, e.g. CALDAV_ACCOUNT_3_*."""
        return f"{self.prefix}{n}_*"


def families(settings_cls: type[BaseModel]) -> tuple[Family, ...]:
    """Return the families a settings class declares with numbered(PREFIX) fields, in field order."""
    found = []
    for attribute, field in settings_cls.model_fields.items():
        prefix = _extra(field).get("numbered")
        if prefix is None:
            continue
        model = next(arg for arg in get_args(field.annotation) if _is_model(arg))
        variables = MappingProxyType({variable.name: variable for variable in _variables(model)})
        as_tuple = get_origin(field.annotation) is tuple
        provider = getattr(model, "provider", None)  # the ClassVar of an account model
        found.append(Family(prefix, attribute, model, variables, as_tuple, provider))
    return tuple(found)


FAMILIES = families(Settings)
FAMILY: Mapping[str, Family] = MappingProxyType({family.attribute: family for family in FAMILIES})
GLOBALS: Mapping[str, Variable] = MappingProxyType({v.name: v for v in _variables(Settings)})
GLOBAL_NAMES = tuple(GLOBALS)
# The account families by provider: one number space, which a flow's SOURCE/TARGET_ACCOUNT_ID refer to.
ACCOUNT_FAMILY: Mapping[str, Family] = MappingProxyType({f.provider: f for f in FAMILIES if f.provider})
GOOGLE_ACCOUNT_PREFIX, FLOW_PREFIX = FAMILY["google_accounts"].prefix, FAMILY["flows"].prefix
FLOW_FIELDS = tuple(FAMILY["flows"].variables)
_NUMBERED = re.compile(
    rf"^(?P<prefix>{'|'.join(family.prefix for family in FAMILIES)})(?P<n>[^_]+)_(?P<field>.+)$"
)
_CANONICAL_NUMBER = re.compile(r"^(0|[1-9][0-9]{0,8})$")


@dataclass(frozen=True)
class NumberedName:
    """A variable of a numbered family, e.g. SYNC_FLOW_2_NAME -> (flows, "2", NAME)."""

    name: str
    family: Family
    number: str
    field: str

    @property
    def prefix(self) -> str:
        """Return the family's prefix, e.g. SYNC_FLOW_."""
        return self.family.prefix

    @property
    def known_fields(self) -> tuple[str, ...]:
        """Return the variable names valid for this family."""
        return tuple(self.family.variables)

    @property
    def valid_number(self) -> bool:
        """Say whether N is a whole number written without sign or leading zeros."""
        return bool(_CANONICAL_NUMBER.match(self.number))


def parse_numbered(name: str) -> NumberedName | None:
    """Split a `PREFIX<N>_<FIELD>` name of any family, or return None."""
    match = _NUMBERED.match(name)
    if match is None:
        return None
    family = next(family for family in FAMILIES if family.prefix == match["prefix"])
    return NumberedName(name, family, match["n"], match["field"])


def variable(name: str) -> Variable | None:
    """Return the declaration behind a variable name (any N), or None when it is not calmirror's."""
    numbered = parse_numbered(name)
    if numbered is not None:
        return numbered.family.variables.get(numbered.field)
    return GLOBALS.get(name)


def is_known(name: str) -> bool:
    """Say whether `name` is one of calmirror's variables (any N)."""
    return variable(name) is not None


def is_secret(name: str) -> bool:
    """Say whether the variable holds a secret whose value must never be shown."""
    declared = variable(name)
    return declared is not None and declared.secret

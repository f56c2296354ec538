"""A validator for the discovery document's schema dialect: types, $ref, properties, items, enums."""

from __future__ import annotations

from typing import Any

_SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def validate(value: Any, schema: dict[str, Any], schemas: dict[str, Any], path: str = "$") -> list[str]:
    """Return every place where `value` breaks `schema` (empty when it conforms)."""
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    kind = schema.get("type", "any")
    if kind == "any":
        return []
    if kind == "object":
        return _object(value, schema, schemas, path)
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: expected array, got {type(value).__name__}"]
        return [
            e
            for i, item in enumerate(value)
            for e in validate(item, schema["items"], schemas, f"{path}[{i}]")
        ]
    expected = _SCALARS[kind]
    if not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool)):
        return [f"{path}: expected {kind}, got {type(value).__name__} {value!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} is not one of {schema['enum']}"]
    return []


def _object(value: Any, schema: dict[str, Any], schemas: dict[str, Any], path: str) -> list[str]:
    """Validate an object: declared properties, else additionalProperties, else unknown."""
    if not isinstance(value, dict):
        return [f"{path}: expected object, got {type(value).__name__}"]
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    errors = []
    for key, item in value.items():
        if key in properties:
            errors += validate(item, properties[key], schemas, f"{path}.{key}")
        elif extra is not None:
            errors += validate(item, extra, schemas, f"{path}.{key}")
        else:
            errors.append(f"{path}: unknown property {key!r}")
    return errors


def discovery_methods(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Map every method id of the document (nested resources included) to its method description."""
    found: dict[str, dict[str, Any]] = {}

    def walk(resources: dict[str, Any]) -> None:
        for resource in resources.values():
            for method in resource.get("methods", {}).values():
                found[method["id"]] = method
            walk(resource.get("resources", {}))

    walk(doc["resources"])
    return found


def response_schemas(doc: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    """Map every method id of the document to its response schema (None: no body)."""
    return {method_id: method.get("response") for method_id, method in discovery_methods(doc).items()}

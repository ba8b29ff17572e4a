"""Result schemas: JSON Schema dicts or pydantic model classes, validation, and minimal instances."""

from __future__ import annotations

import json
import math
import weakref
from dataclasses import dataclass
from typing import Any

import jsonschema
from pydantic import BaseModel, ValidationError

from .errors import WorkcrewError

JsonSchema = dict[str, Any]


class SchemaError(WorkcrewError):
    """A schema that no answer could satisfy, or that is not a schema at all."""


_CACHE_SIZE = 256


def _canonical(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class _Checked:
    """A schema checked once: a fan-out passes the same schema to every agent, and generating, checking and
    compiling it (milliseconds for a pydantic model) would otherwise sit on each agent's start."""

    json_schema: JsonSchema
    canonical: str  # compact and key-sorted: equal schemas have equal text (resume keys use it)
    validator: jsonschema.Draft202012Validator


# per model class, weakly: a workflow's classes go when its run does (the values never refer to them)
_BY_MODEL: weakref.WeakKeyDictionary[type[BaseModel], _Checked] = weakref.WeakKeyDictionary()
_BY_TEXT: dict[str, _Checked] = {}  # per distinct JSON Schema text, the oldest dropped past _CACHE_SIZE


def _check(json_schema: JsonSchema, *, model: bool) -> _Checked:
    try:
        jsonschema.Draft202012Validator.check_schema(json_schema)
    except jsonschema.SchemaError as exc:
        raise SchemaError(f"invalid JSON Schema: {exc.message}") from None
    root_type = json_schema.get("type")
    if root_type not in (None, "object"):
        raise SchemaError(f"the schema root must be an object, not {root_type!r}")
    props = json_schema.get("properties", {})
    missing = [name for name in json_schema.get("required", []) if name not in props]
    if missing and not model:
        raise SchemaError(f"required names missing from properties: {', '.join(missing)}")
    return _Checked(json_schema, _canonical(json_schema), jsonschema.Draft202012Validator(json_schema))


def _checked_model(model: type[BaseModel]) -> _Checked:
    found = _BY_MODEL.get(model)
    if found is None:
        found = _BY_MODEL[model] = _check(model.model_json_schema(), model=True)
    return found


def _checked_dict(spec: dict[str, Any]) -> _Checked:
    try:
        text = _canonical(spec)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"invalid JSON Schema: it is not JSON data ({exc})") from None
    found = _BY_TEXT.get(text)
    if found is None:
        found = _check(json.loads(text), model=False)  # a copy: the script may change its dict afterwards
        if len(_BY_TEXT) >= _CACHE_SIZE:
            _BY_TEXT.pop(next(iter(_BY_TEXT)))
        _BY_TEXT[text] = found
    return found


class ResultSchema:
    """A schema given to ``agent(schema=...)``: validates answers and describes itself as JSON Schema."""

    def __init__(self, spec: Any) -> None:
        self.model: type[BaseModel] | None = None
        if isinstance(spec, type) and issubclass(spec, BaseModel):
            self.model = spec
            checked = _checked_model(spec)
        elif isinstance(spec, dict):
            checked = _checked_dict(spec)
        else:
            raise SchemaError(
                f"schema must be a JSON Schema dict or a pydantic model class, not {type(spec).__name__}"
            )
        self.json_schema: JsonSchema = checked.json_schema
        self.canonical = checked.canonical
        self._validator = checked.validator

    def validate(self, value: Any) -> tuple[Any, list[str]]:
        """(validated value, []) or (None, [error messages])."""
        try:
            return self._validate(value)
        except RecursionError:  # a (hostile or broken) answer nested deeper than Python's parser and validators go
            return None, ["the answer is nested too deeply (JSON answers must stay under 500 levels)"]

    def _validate(self, value: Any) -> tuple[Any, list[str]]:
        if isinstance(value, str):
            try:
                value = json.loads(_strip_fences(value))
            except json.JSONDecodeError as exc:
                return None, [f"the answer is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]
        if self.model is not None:
            try:
                return self.model.model_validate(value), []
            except ValidationError as exc:
                return None, [
                    f"{'/'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()
                ]
        errors = sorted(self._validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        if errors:
            return None, [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]
        return value, []

    def minimal_instance(self) -> Any:
        return minimal_instance(self.json_schema)


def _strip_fences(text: str) -> str:
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        if stripped.rstrip().endswith("```"):
            stripped = stripped.rstrip()[:-3]
    return stripped


MAX_DEPTH = 1000  # levels of nesting to_jsonable follows (JSON itself stops near 900 in CPython)


def to_jsonable(value: Any) -> Any:
    """Plain JSON data for a result (pydantic models dumped, tuples as lists).

    Raises RecursionError for data nested deeper than MAX_DEPTH (or that contains itself).
    """
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # JSON has no Infinity/NaN (remaining() without a budget)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return _to_jsonable_nested(value)


def _to_jsonable_nested(value: Any) -> Any:
    # a loop, not recursion: a frame per level would stop at a few hundred levels inside the event loop
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 0)]
    while stack:
        item, parent, key, depth = stack.pop()
        if isinstance(item, dict | list | tuple) and depth >= MAX_DEPTH:
            raise RecursionError(f"the data is nested deeper than {MAX_DEPTH} levels (or contains itself)")
        if isinstance(item, dict):
            out: dict[str, Any] = {}
            parent[key] = out
            for k, v in item.items():
                out[str(k)] = None  # keeps the order; filled below
                stack.append((v, out, str(k), depth + 1))
        elif isinstance(item, list | tuple):
            items: list[Any] = [None] * len(item)
            parent[key] = items
            stack.extend((v, items, i, depth + 1) for i, v in enumerate(item))
        elif isinstance(item, BaseModel):
            parent[key] = item.model_dump(mode="json")
        elif isinstance(item, float) and not math.isfinite(item):
            parent[key] = None
        elif item is None or isinstance(item, str | int | float | bool):
            parent[key] = item
        else:
            parent[key] = str(item)
    return root[0]


def minimal_instance(schema: JsonSchema, root: JsonSchema | None = None, depth: int = 0) -> Any:
    """The smallest value that satisfies ``schema`` (first enum value, required keys only, minItems items)."""
    root = root or schema
    if depth > 32:
        return None
    if "$ref" in schema:
        ref = str(schema["$ref"])
        target: Any = root
        for part in ref.lstrip("#/").split("/"):
            if part:
                target = target.get(part, {}) if isinstance(target, dict) else {}
        return minimal_instance(target, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return minimal_instance(options[0], root, depth + 1)
    if schema.get("allOf"):
        merged: JsonSchema = {}
        for part in schema["allOf"]:
            merged.update(part)
        return minimal_instance(merged, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties", {})
        return {name: minimal_instance(props.get(name, {}), root, depth + 1) for name in schema.get("required", [])}
    if kind == "array":
        count = int(schema.get("minItems", 0))
        return [minimal_instance(schema.get("items", {}), root, depth + 1) for _ in range(count)]
    if kind == "string":
        fmt = schema.get("format")
        samples = {"date-time": "2026-01-01T00:00:00Z", "date": "2026-01-01", "uri": "https://example.com",
                   "email": "a@example.com", "uuid": "00000000-0000-0000-0000-000000000000"}
        text = samples.get(str(fmt), "x")
        return text * max(1, int(schema.get("minLength", 1))) if fmt not in samples else text
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return {}

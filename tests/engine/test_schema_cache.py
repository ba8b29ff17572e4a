"""Result schemas are checked once per pydantic class or distinct JSON Schema, and stay what they were."""

from __future__ import annotations

import gc
import weakref

import pytest
from pydantic import BaseModel
from workcrew.engine.schema import ResultSchema, SchemaError


def test_a_schema_dict_changed_by_the_script_afterwards_is_not_changed_for_agents_already_given_it() -> None:
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    first = ResultSchema(schema)
    again = ResultSchema(dict(reversed(list(schema.items()))))  # equal content, other key order
    assert again.json_schema is first.json_schema  # checked once
    schema["required"] = []  # the script changes its dict afterwards
    assert first.validate('{"nope": 1}')[1]  # still requires "ok"
    assert not ResultSchema(schema).validate('{"nope": 1}')[1]  # the changed dict is a schema of its own
    assert first.canonical == '{"properties":{"ok":{"type":"boolean"}},"required":["ok"],"type":"object"}'


def test_a_pydantic_model_is_checked_once_and_the_cache_does_not_keep_it_alive() -> None:
    class Verdict(BaseModel):
        ok: bool

    first, again = ResultSchema(Verdict), ResultSchema(Verdict)
    assert again.json_schema is first.json_schema
    value, errors = again.validate('{"ok": true}')
    assert not errors and isinstance(value, Verdict)
    gone = weakref.ref(Verdict)
    del Verdict, first, again, value
    gc.collect()
    assert gone() is None


def test_a_bad_schema_is_still_refused_with_its_reason() -> None:
    with pytest.raises(SchemaError, match="schema root must be an object"):
        ResultSchema({"type": "string"})
    with pytest.raises(SchemaError, match="JSON Schema dict or a pydantic model class"):
        ResultSchema(["not", "a", "schema"])
    with pytest.raises(SchemaError, match="not JSON data"):
        ResultSchema({"type": "object", "default": object()})

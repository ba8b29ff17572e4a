"""The simulated model's answers when no scenario is given: deterministic, plausible, and marked simulated.

A scenario scripts every answer for tests and demos. Without one (``provider = simulated``, the free first
run) the model still has to answer so that a workflow gets somewhere:

* a **finder** (an answer schema with a list of ``{title, line, ...}`` candidates) reads the file its prompt
  names with the ``read_file`` tool, like a real agent, then reports what :mod:`.simulated_findings`'s
  patterns match, on real lines, with exact-text fixes;
* a **skeptic** (a schema with a ``refuted`` boolean) upholds the claim and says it is simulated;
* any other schema gets its smallest valid instance, strings saying "(simulated …)";
* plain text keeps the scenario's default ("Simulated answer for: …").

Nothing here reads a file itself: a file's text only reaches it as the tool's result, through the agent's
confined toolbox, and an agent without ``read_file`` reports nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema

from ..schema import minimal_instance
from ..tool_names import READ_FILE
from .base import ModelRequest
from .scenario import Answer, Respond, Turn
from .simulated_findings import SIMULATED, find_candidates, numbered_lines

_FREE = Respond()  # the answer of no rule: shared, never mutated
_CODE_EXTENSIONS = (
    "py|pyi|js|jsx|mjs|cjs|ts|tsx|mts|cts|go|rs|java|kt|kts|scala|rb|php|c|h|cc|cpp|cxx|hpp|cs|swift|dart|"
    "lua|sh|bash|sql|md|rst|txt|json|yaml|yml|toml|ini|cfg|html|css|vue|svelte"
)
# a workspace-relative file named in a prompt: "Review src/calc.py for …", "Read calc.py and …"
_PATH_IN_PROMPT = re.compile(rf"(?<![\w/.-])((?:[\w.-]+/)*[\w-][\w.-]*\.(?:{_CODE_EXTENSIONS}))(?![\w/-])")
UPHELD_REASON = (f"{SIMULATED} The simulated skeptic upholds every claim it is shown; a real model would "
                 "check the cited line.")


def path_in_prompt(prompt: str) -> str | None:
    """The first file path the prompt names, or None."""
    match = _PATH_IN_PROMPT.search(prompt)
    return match.group(1) if match else None


def findings_key(schema: dict[str, Any] | None) -> str | None:
    """The property of a finder's answer that lists candidates (items with a ``title`` and a ``line``)."""
    if not schema:
        return None
    for name, prop in (schema.get("properties") or {}).items():
        items = prop.get("items") if isinstance(prop, dict) and prop.get("type") == "array" else None
        fields = items.get("properties") if isinstance(items, dict) else None
        if isinstance(fields, dict) and "title" in fields and "line" in fields:
            return str(name)
    return None


def is_verdict(schema: dict[str, Any] | None) -> bool:
    """A skeptic's schema: a required ``refuted`` boolean."""
    props = (schema or {}).get("properties") or {}
    return "refuted" in (schema or {}).get("required", []) and (props.get("refuted") or {}).get("type") == "boolean"


def free_answer(request: ModelRequest, turn: Turn) -> Answer | None:
    """The answer to this turn without a scenario, or None for the scenario's default (plain text)."""
    schema = turn.schema
    if schema is None:
        return None
    key = findings_key(schema)
    if key is not None:
        return _finder(request, turn, schema, key)
    if is_verdict(schema):
        value = simulated_instance(schema)
        value.update({"refuted": False})
        if "reason" in (schema.get("properties") or {}):
            value["reason"] = UPHELD_REASON
        return _json(value, schema)
    return _json(simulated_instance(schema), schema)


def _answer(text: str, tool_calls: list[dict[str, Any]] | None = None) -> Answer:
    return Answer(None, _FREE, 0, None, text, tool_calls or [])


def _json(value: Any, schema: dict[str, Any]) -> Answer:
    # never answer something the agent loop would reject: fall back to the plain minimal instance
    if not jsonschema.Draft202012Validator(schema).is_valid(value):
        value = minimal_instance(schema)
    return _answer(json.dumps(value))


def _finder(request: ModelRequest, turn: Turn, schema: dict[str, Any], key: str) -> Answer:
    empty = simulated_instance(schema)
    empty[key] = []
    if not turn.answering_tools:
        path = path_in_prompt(request.prompt)
        offered = any(t.get("name") == READ_FILE for t in request.tools)
        if path is None or not offered:
            return _json(empty, schema)
        return _answer("", [{"name": READ_FILE, "input": {"path": path}}])
    path, output = _read_result(request)
    if path is None or output is None:
        return _json(empty, schema)  # the read failed (missing, secret, binary): nothing to point at
    item_schema = ((schema.get("properties") or {}).get(key) or {}).get("items") or {}
    fields = item_schema.get("properties") or {}
    validator = jsonschema.Draft202012Validator(item_schema)
    items = []
    for candidate in find_candidates(path, numbered_lines(output)):
        shaped = {name: value for name, value in candidate.items() if name in fields}
        for name in item_schema.get("required", []):
            shaped.setdefault(name, minimal_instance(fields.get(name) or {}))
        if validator.is_valid(shaped):
            items.append(shaped)
    value = dict(empty)
    value[key] = items
    return _json(value, schema)


def _read_result(request: ModelRequest) -> tuple[str | None, str | None]:
    """(the path the finder asked to read, the tool's output), or Nones when the read failed."""
    if len(request.messages) < 2:
        return None, None
    asked, answered = request.messages[-2].get("content"), request.messages[-1].get("content")
    if not isinstance(asked, list) or not isinstance(answered, list):
        return None, None
    uses = {b.get("id"): b for b in asked if b.get("type") == "tool_use" and b.get("name") == READ_FILE}
    for block in answered:
        use = uses.get(block.get("tool_use_id"))
        if block.get("type") != "tool_result" or use is None or block.get("is_error"):
            continue
        content = block.get("content")
        text = content if isinstance(content, str) else " ".join(
            str(part.get("text", "")) for part in content or [] if isinstance(part, dict))
        return str((use.get("input") or {}).get("path")), text
    return None, None


def simulated_instance(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema's smallest valid object, with plain string fields saying ``(simulated NAME)``."""
    value = minimal_instance(schema)
    if not isinstance(value, dict):
        return {}
    props = schema.get("properties") or {}
    for name, prop in props.items():
        if name in value and _plain_string(prop):
            value[name] = f"(simulated {name})"
    return value


def _plain_string(prop: Any) -> bool:
    """A string field with no constraint a filler text could break."""
    return isinstance(prop, dict) and prop.get("type") == "string" and not any(
        key in prop for key in ("enum", "const", "pattern", "format", "maxLength", "default"))

"""What crosses the QuickJS bridge, as text: JSON both ways, so any string arrives intact.

Python to JS: ``json.dumps`` with its default ASCII escapes, so the binding is only ever handed ASCII
(a lone surrogate, which UTF-8 cannot carry, travels as ``\\ud800`` and JSON.parse restores it). JS to
Python: the prelude's outbox, one JSON message per line (JSON.stringify escapes NUL, control characters
and lone surrogates, and never writes a raw newline), joined into one flat string. Every message
decodes with the standard library; one nested deeper than Python's parser allows is named, not lost.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from ....errors import WorkcrewError
from ....schema import to_jsonable

# the prelude's call messages start like this; enough to answer a call whose arguments Python cannot parse
_CALL_HEAD = re.compile(r'\["call",(\d+),"(\w+)",')
_KIND_HEAD = re.compile(r'\["(\w+)"')


class BridgeFault(WorkcrewError):
    """The bridge itself failed (not the script): the run fails with this reason, never silently."""


@dataclass(frozen=True)
class TooDeep:
    """A message Python could not parse because its JSON is nested too deeply."""

    kind: str
    call_id: int | None
    name: str | None


def decode_outbox(text: str) -> list[Any]:
    """The messages of one drained outbox, in order (a :class:`TooDeep` stands in for an unparsable one)."""
    if not text:
        return []
    try:
        return list(json.loads("[" + text.replace("\n", ",") + "]"))
    except RecursionError:
        return [_decode_one(line) for line in text.split("\n")]
    except ValueError as exc:
        # only a script that tampered with the prelude's intrinsics could garble the outbox
        raise BridgeFault(f"the script broke the engine bridge (a garbled message: {exc})") from None


def _decode_one(line: str) -> Any:
    try:
        return json.loads(line)
    except RecursionError:
        call = _CALL_HEAD.match(line)
        if call is not None:
            return TooDeep("call", int(call.group(1)), call.group(2))
        kind = _KIND_HEAD.match(line)
        return TooDeep(kind.group(1) if kind else "unknown", None, None)
    except ValueError as exc:
        raise BridgeFault(f"the script broke the engine bridge (a garbled message: {exc})") from None


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # what JSON.stringify makes of NaN and Infinity
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def to_json(value: Any) -> str:
    """ASCII JSON that JavaScript's JSON.parse accepts (Python's json writes NaN and Infinity).

    Raises :class:`ValueError` for a value that cannot cross (nested too deeply, or not data).
    """
    try:
        data = to_jsonable(value)
        try:
            return json.dumps(data, allow_nan=False)
        except ValueError:
            return json.dumps(_finite(data), allow_nan=False)
    except RecursionError:
        raise ValueError("it is nested too deeply to pass to the script (keep data under 500 levels)") from None
    except TypeError as exc:
        raise ValueError(f"it is not JSON data ({exc})") from None


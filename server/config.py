"""Editor settings (initializationOptions / the ``workcrew`` configuration section) → engine Settings.

The VS Code extension sends camelCase keys; the engine's Settings use snake_case. Keys that only the
client uses (interpreter, serverArgs, trace) are accepted and ignored; unknown keys are reported, not fatal.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from workcrew.engine import Settings, load_settings

CLIENT_ONLY = {"interpreter", "server_args", "trace", "show_notifications", "log_level"}
SERVER_ONLY = {"limits"}  # the server's own limits per editor (limits.py), not a run's settings

# friendlier editor names for engine fields
ALIASES = {
    "approval_policy": "approval",
    "default_budget": "budget_usd",
    "default_budget_usd": "budget_usd",
    "default_budget_tokens": "budget_tokens",
    "exclude": "excludes",
    "secrets": "secret_patterns",
}

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(key: str) -> str:
    return _CAMEL.sub(r"_\1", key).lower()


def editor_overrides(raw: Any) -> tuple[dict[str, Any], list[str]]:
    """(Settings overrides, warnings) from what the editor sent; None values and client-only keys dropped."""
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, [f"workcrew settings must be an object, not {type(raw).__name__}; using defaults"]
    if isinstance(raw.get("workcrew"), dict):  # initializationOptions may nest the section
        raw = raw["workcrew"]
    fields = set(Settings.model_fields)
    out: dict[str, Any] = {}
    warnings: list[str] = []
    for key, value in raw.items():
        name = snake(str(key))
        name = ALIASES.get(name, name)
        if value is None or name in CLIENT_ONLY or name in SERVER_ONLY:
            continue
        if name == "models" and isinstance(value, dict):
            value = {snake(str(k)): v for k, v in value.items() if v is not None}
        if name not in fields:
            warnings.append(f"unknown workcrew setting {key!r} ignored")
            continue
        out[name] = value
    return out, warnings


def server_settings(workspace: Path, raw: Any, env: dict[str, str] | None = None) -> tuple[Settings, list[str]]:
    """Settings for the workspace: files < environment < editor settings. Bad editor settings → defaults."""
    overrides, warnings = editor_overrides(raw)
    environment = dict(os.environ) if env is None else env
    try:
        return load_settings(workspace, overrides, environment), warnings
    except Exception as exc:  # a bad editor value must not stop the server: report it and go on without them
        warnings.append(f"{exc}; the editor's workcrew settings were ignored")
    return load_settings(workspace, {}, environment), warnings

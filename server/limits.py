"""The server's own limits per client (editor): command arguments, open documents, document size.

Set in the editor's ``workcrew.limits`` settings (initializationOptions or the ``workcrew`` configuration
section, camelCase like the other settings); docs/editors.md, "Limits", says what each one guards.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class ServerLimits:
    # a command's arguments, counted as JSON characters: far above anything the extension sends (a Run with
    # an explicit scope of 10,000 files is ~500 KB), far below what would hurt the daemon
    command_arguments_kb: int = 1024
    # nesting of a command's arguments: workflow args are a few levels deep; a deep tree only costs
    command_nesting: int = 64
    # documents the editor may have open at once: VS Code opens documents for tabs and for other extensions'
    # work (peeks, searches), a few hundred at most in practice
    open_documents: int = 1000
    # one open document's text, in MiB (counted in characters): beyond it the editor's copy is not kept
    document_mb: int = 16

    @property
    def command_argument_chars(self) -> int:
        return self.command_arguments_kb * KIB

    @property
    def document_chars(self) -> int:
        return self.document_mb * MIB


BOUNDS = {"command_arguments_kb": (1, 256 * KIB), "command_nesting": (4, 10_000),
          "open_documents": (1, 1_000_000), "document_mb": (1, 4 * KIB)}
SETTING = "workcrew.limits"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def limits_from(raw: Any) -> tuple[ServerLimits, list[str]]:
    """Limits from the editor's ``limits`` object (camelCase or snake_case keys); bad values are reported and the
    default kept."""
    limits = ServerLimits()
    if raw is None:
        return limits, []
    if not isinstance(raw, dict):
        return limits, [f"{SETTING} must be an object, not {type(raw).__name__}; using the default limits"]
    known = {_camel(f.name): f.name for f in fields(ServerLimits)} | {f.name: f.name for f in fields(ServerLimits)}
    changes: dict[str, int] = {}
    warnings: list[str] = []
    for key, value in raw.items():
        name = known.get(str(key))
        if name is None:
            warnings.append(f"unknown setting {SETTING}.{str(key)[:80]} ignored "
                            f"(known: {', '.join(_camel(f.name) for f in fields(ServerLimits))})")
            continue
        if value is None:
            continue
        low, high = BOUNDS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            warnings.append(f"{SETTING}.{_camel(name)} must be a whole number from {low} to {high}; "
                            f"using {getattr(limits, name)}")
            continue
        changes[name] = value
    return replace(limits, **changes), warnings

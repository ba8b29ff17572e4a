"""How a finding is labelled in the Problems panel: the ``source`` names the tool, the workflow and the run
(``Workcrew · review · run 3f2a9c``), and the message's last line says how long it has been open (``first
seen 2 h ago``). Both are computed when the diagnostic is published and never re-published for the age
alone: it refreshes whenever the file's diagnostics are published anyway."""

from __future__ import annotations

import time

SOURCE_NAME = "Workcrew"
_UNITS = ((86400 * 7, "week"), (86400, "day"), (3600, "h"), (60, "min"))


def source_label(workflow: str, run_id: str) -> str:
    return f"{SOURCE_NAME} · {workflow} · run {short_run(run_id)}"


def is_workcrew(source: str | None) -> bool:
    """A diagnostic this server published (its source is ``workcrew`` or starts with ``Workcrew ·``)."""
    return bool(source) and (source == "workcrew" or str(source).startswith(SOURCE_NAME + " ·"))


def short_run(run_id: str) -> str:
    """``wf_3f2a9c8d1e2f`` → ``3f2a9c``: enough to tell runs apart in a list, as `workcrew show` accepts it."""
    return run_id.removeprefix("wf_")[:6] or run_id


def age(first_seen: float, now: float | None = None) -> str:
    """``just now``, ``5 min ago``, ``2 h ago``, ``3 days ago``, ``2 weeks ago``."""
    seconds = max(0.0, (time.time() if now is None else now) - first_seen)
    if seconds < 60:
        return "just now"
    for size, unit in _UNITS:
        if seconds >= size:
            count = int(seconds // size)
            plural = "s" if count != 1 and unit in ("week", "day") else ""
            return f"{count} {unit}{plural} ago"
    return "just now"


def age_line(first_seen: float, now: float | None = None) -> str:
    return f"first seen {age(first_seen, now)}"

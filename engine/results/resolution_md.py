"""report.md's Resolution section: what became of the run's findings (as of when the report was made) and
which earlier findings the run closed as fixed."""

from __future__ import annotations

from typing import Any

from .resolution import Resolution, percent


def _cell(text: Any) -> str:
    return " ".join(str(text if text is not None else "").split()).replace("|", "\\|")


def resolution_lines(resolution: Resolution | None, closed: list[dict[str, Any]]) -> list[str]:
    if resolution is None:
        return []
    lines = ["## Resolution", ""]
    if resolution.total:
        lines += ["| findings | fixed | dismissed | open | resolution rate | acted on |", "|---|---|---|---|---|---|",
                  f"| {resolution.total} | {resolution.fixed} | {resolution.dismissed} | {resolution.open} | "
                  f"{percent(resolution.rate)} | {percent(resolution.acted_on)} |", ""]
        if resolution.dismissed_by:
            lines += ["Dismissed as: " + ", ".join(f"{kind} {n}" for kind, n in sorted(resolution.dismissed_by.items()))
                      + ".", ""]
        lines += ["Fixed: a later run covered the file, the file had changed and the finding was not reported again, "
                  "or its fix was applied in the editor. Resolution rate = fixed / all; acted on = (fixed + "
                  "dismissed) / all. `workcrew report` makes this section again with the states as they are then; "
                  "`workcrew stats` shows them over time.", ""]
    else:
        lines += ["The run reported no findings (refuted ones do not count).", ""]
    if closed:
        lines += [f"This run closed {len(closed)} earlier finding{'s' if len(closed) != 1 else ''} as fixed:", ""]
        lines += [f"- `{_cell(row.get('path'))}` (`{_cell(row.get('fingerprint'))}`): {_cell(row.get('reason'))}"
                  for row in closed]
        lines.append("")
    return lines

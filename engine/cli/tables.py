"""The live progress table of a run, drawn the same way for `workcrew run` and `workcrew attach`."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from .common import money, tokens


def progress_table(tree: dict[str, Any], title: str) -> Table:
    """Phases as rows (running, done, failed, tokens, cost) from a run tree, as ``RunState.tree`` makes it."""
    table = Table(title=title, title_justify="left", expand=False)
    for column in ("phase", "running", "done", "failed", "tokens", "cost"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    for phase in tree["phases"]:
        agents = phase["agents"]
        table.add_row(phase["title"], str(sum(a["state"] == "running" for a in agents)),
                      f"{phase['done']}/{phase['total']}", str(sum(a["state"] == "failed" for a in agents)),
                      tokens(phase["tokens"]), money(phase["cost_usd"]))
    counts, usage = tree.get("counts") or {}, tree.get("usage") or {}
    if counts:
        table.caption = (f"agents {counts.get('launched', 0)} launched · {counts.get('succeeded', 0)} ok · "
                         f"{counts.get('failed', 0)} failed"
                         + (f" · {counts['cached']} cached" if counts.get("cached") else "")
                         + f" · {tokens(sum(v for k, v in usage.items() if k.endswith('tokens')))} tokens"
                         f" · {money(usage.get('cost_usd'))}")
    return table

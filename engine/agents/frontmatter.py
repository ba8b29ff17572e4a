"""YAML front matter of Markdown files (Claude Code's agent definitions and skills), with line numbers.

``---`` on the first line, YAML, ``---``, then the Markdown body. Errors name the file and the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MAX_DEFINITION_BYTES = 512 * 1024


class FrontMatterError(ValueError):
    """A file whose front matter cannot be used: ``path:line: problem``."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        super().__init__(f"{path}:{line}: {problem}")


@dataclass(frozen=True)
class FrontMatter:
    data: dict[str, Any]
    body: str
    lines: dict[str, int] = field(default_factory=dict)  # key (or "key[i]" for list items) → its line in the file

    def line_of(self, key: str, index: int | None = None) -> int:
        if index is not None and f"{key}[{index}]" in self.lines:
            return self.lines[f"{key}[{index}]"]
        return self.lines.get(key, 1)


def read_markdown(path: Path) -> str:
    """The file's text (UTF-8, a BOM dropped); FrontMatterError when it is too big or not text."""
    data = path.read_bytes()
    if len(data) > MAX_DEFINITION_BYTES:
        raise FrontMatterError(path, 1, f"the file is {len(data):,} bytes, over the {MAX_DEFINITION_BYTES:,}-byte "
                                        "limit for definitions: move reference material into separate files")
    if b"\0" in data[:8192]:
        raise FrontMatterError(path, 1, "the file is binary, not Markdown")
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


def parse_front_matter(text: str, path: Path, *, required: bool = True) -> FrontMatter:
    """Split ``text`` into its front matter and body. Without front matter: an error when ``required``,
    else empty data and the whole text as the body."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        if required:
            raise FrontMatterError(path, 1, "no YAML front matter: the file must start with a '---' line, then "
                                            "name: and description:, then '---' and the instructions")
        return FrontMatter({}, text)
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise FrontMatterError(path, 1, "the front matter is not closed: add a '---' line after it")
    source = "".join(lines[1:end])
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
        data = yaml.safe_load(source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and (mark is None or mark.line >= end - 1):
            mark = exc.context_mark  # a construct left open: where it starts, not the end of the front matter
        line = mark.line + 2 if mark is not None else 2
        context = f" ({exc.context})" if exc.context else ""
        raise FrontMatterError(path, line, f"invalid YAML in the front matter: {exc.problem or exc}{context}") \
            from None
    except yaml.YAMLError as exc:
        raise FrontMatterError(path, 2, f"invalid YAML in the front matter: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FrontMatterError(path, 2, f"the front matter must be a mapping of keys (name: …), not a "
                                        f"{type(data).__name__}")
    return FrontMatter({str(k): v for k, v in data.items()}, "".join(lines[end + 1:]), _key_lines(node))


def _key_lines(node: yaml.Node | None) -> dict[str, int]:
    out: dict[str, int] = {}
    if not isinstance(node, yaml.MappingNode):
        return out
    for key, value in node.value:
        name = str(key.value)
        out[name] = key.start_mark.line + 2  # +1: 1-based, +1: the opening '---'
        if isinstance(value, yaml.SequenceNode):
            for index, item in enumerate(value.value):
                out[f"{name}[{index}]"] = item.start_mark.line + 2
    return out

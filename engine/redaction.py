"""Secret values kept out of everything Workcrew writes or sends.

The OS sandbox keeps secret *files* and the engine's environment away from scripts, commands and
agents; this module is the second line, for secret *values* that turn up elsewhere (an API key pasted
into ``config.py``, a password a test prints, an error that echoes a token). The process learns the
values of its secret-looking environment variables (``ANTHROPIC_API_KEY``, ``*_TOKEN``…) and, per
workspace, the values written in its secret files (``.env``, ``*.pem``… by ``secret_patterns``), and
replaces every literal occurrence with ``[redacted: NAME]`` at each boundary:

- what reaches a model: the agent's prompt and every tool result (``agent_loop``), files before they
  are sliced into line ranges (``tools``), command output before it is cut to size (``commands``);
- the run store: every text the writer thread stores (``store``);
- the editor: every message the language server sends (``server``); and the logs (:class:`LogFilter`).

The redaction is literal (plus the JSON-escaped forms the store and the LSP wire use): a command that
prints a value in pieces is not caught, which is why secret files are masked in the sandbox in the
first place. Values shorter than eight characters, plain numbers and short plain words are not
treated as secrets: redacting ``localhost`` or ``8080`` everywhere would break more than it protects.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

MIN_LENGTH = 8
MAX_SECRET_FILE_BYTES = 256 * 1024
MAX_SECRET_FILES = 200
MAX_SCAN_ENTRIES = 200_000
# folders no credentials file of the project lives in: dependencies and caches (their files named
# *secret* are library code, and scanning them would cost seconds in a large workspace)
SKIPPED_FOLDERS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".nox",
                             ".mypy_cache", ".ruff_cache", ".pytest_cache", "site-packages", ".workcrew"})
# a secret file by name with one of these suffixes is source code, not a credentials file: reading its
# assignments as secrets would redact code (agents still never read it: it is a secret file)
CODE_SUFFIXES = frozenset({".py", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".rs", ".java", ".kt", ".rb",
                           ".php", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".swift", ".scala", ".md", ".rst",
                           ".html", ".css", ".sh", ".lua"})
SECRET_ENV = re.compile(
    r"KEY|TOKEN|SECRET|PASSW|PASSPHRASE|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|CERT|DSN|DATABASE_URL|"
    r"^AWS_|^AZURE_|^GCP_|^GOOGLE_|^GH_|^GITHUB_|^ANTHROPIC|^OPENAI|^HF_|^NPM_CONFIG|^PIP_|^VAULT_|^SSH_",
    re.IGNORECASE)
# token shapes that are credentials whatever variable holds them
CREDENTIAL_SHAPE = re.compile(r"^(sk-|sk_live_|rk_live_|ghp_|gho_|ghs_|github_pat_|glpat-|xox[abpr]-|AKIA|AIza|hf_)")
_ASSIGNMENT = re.compile(r"""^\s*(?:export\s+)?["']?([\w.\-]+)["']?\s*[=:]\s*(.*?)\s*[,;]?\s*$""")
_QUOTED_PAIR = re.compile(r"([\"'])[^\"'\n]*\1\s*:\s*\"((?:[^\"\\\n]|\\.)*)\"")
_NUMBER_OR_WORD = re.compile(r"^(?:[-+]?\d[\d_.eE+-]*|true|false|null|none|yes|no|on|off)$", re.IGNORECASE)


def secret_variable(name: str) -> bool:
    """Whether an environment variable's name looks like it holds a credential."""
    return bool(SECRET_ENV.search(name))


def plausible_secret(value: str) -> bool:
    """Whether ``value`` is worth redacting: long enough, not a number, not a short plain word."""
    if len(value) < MIN_LENGTH or _NUMBER_OR_WORD.match(value):
        return False
    if value.isalpha() and len(value) < 16 and not CREDENTIAL_SHAPE.match(value):
        return False  # "localhost", "production": words, not credentials
    return not ("://" in value and "@" not in value and not CREDENTIAL_SHAPE.match(value))


def values_in_file(text: str) -> Iterator[str]:
    """The secret values written in a credentials file: assigned values (``KEY=value``, ``key: value``,
    ``"key": "value"``), the part after the last ``=`` of other lines (``.npmrc`` tokens), and whole
    lines without spaces (key material such as the body of a PEM file)."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "-----")):  # "//" starts .npmrc lines
            continue
        if line[0] == "[" and line[-1] == "]":
            continue  # an INI section
        for pair in _QUOTED_PAIR.finditer(line):  # JSON and YAML flow maps, several to a line
            yield pair.group(2)
        match = _ASSIGNMENT.match(line)
        if match and match.group(2):
            yield _unquote(match.group(2))
        elif "=" in line and line.rsplit("=", 1)[1].strip():
            yield _unquote(line.rsplit("=", 1)[1])
        elif " " not in line and "\t" not in line:
            yield line  # key material; base64 padding ends such a line with "="


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'`":
        return value[1:-1]
    return value


def _label(name: str) -> str:
    # the placeholder travels inside JSON texts the store and the LSP wire have already encoded: keep it
    # to characters no encoding escapes
    return re.sub(r"[^A-Za-z0-9_./-]", "_", name)[:80] or "secret"


class Secrets:
    """The secret values this process knows, and :meth:`redact` to take them out of a text.

    Thread-safe: learning swaps one immutable (pattern, labels) pair, and readers use whichever pair
    they picked up. Redacting is one regex pass, skipped when nothing is known.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._labels: dict[str, str] = {}  # every form of a value (raw, JSON-escaped) → its label
        self._pattern: re.Pattern[str] | None = None
        self._scanned: dict[str, tuple[float, ...]] = {}  # workspace → modification times of its secret files

    # -- learning ------------------------------------------------------------------------------------

    def learn(self, values: Iterable[tuple[str, str]]) -> int:
        """Add ``(label, value)`` pairs; returns how many new values were learned."""
        added = 0
        with self._lock:
            labels = dict(self._labels)
            for name, value in values:
                if not isinstance(value, str) or not plausible_secret(value):
                    continue
                for form in _forms(value):
                    if form not in labels:
                        labels[form] = f"[redacted: {_label(name)}]"
                        added += 1
            if added:
                # longest first, so a value that contains another is replaced whole
                forms = sorted(labels, key=len, reverse=True)
                self._pattern = re.compile("|".join(map(re.escape, forms)))
                self._labels = labels
        return added

    def learn_environment(self, environ: Mapping[str, str] | None = None) -> int:
        """Learn the values of secret-looking variables (by name, or by the shape of the value)."""
        environ = os.environ if environ is None else environ
        # a path (SSH_AUTH_SOCK, GOOGLE_APPLICATION_CREDENTIALS) names where a secret is, it is not one:
        # redacting it would only garble every mention of that folder
        return self.learn((name, value) for name, value in environ.items()
                          if (secret_variable(name) or CREDENTIAL_SHAPE.match(value))
                          and not value.startswith(("/", "~/", "./", "unix:", "local/")))

    def learn_workspace(self, root: Path, secret_patterns: list[str]) -> int:
        """Learn the values in the workspace's secret files (blocking: walks the workspace; run it off the
        event loop). A workspace whose secret files have not changed since the last call is not read again."""
        files = list(secret_files(root, secret_patterns))
        stamp = tuple(_mtime(path) for path in files)
        key = str(root)
        if self._scanned.get(key) == stamp:
            return 0
        pairs: list[tuple[str, str]] = []
        for path in files:
            try:
                text = path.read_bytes()[:MAX_SECRET_FILE_BYTES].decode("utf-8", errors="replace")
            except OSError:
                continue
            rel = path.relative_to(root).as_posix()
            pairs.extend((rel, value) for value in values_in_file(text))
        added = self.learn(pairs)
        self._scanned[key] = stamp
        return added

    def forget(self) -> None:
        """Forget every value (tests)."""
        with self._lock:
            self._labels, self._pattern = {}, None
            self._scanned.clear()

    # -- redacting -----------------------------------------------------------------------------------

    @property
    def known(self) -> int:
        return len(self._labels)

    def redact(self, text: str) -> str:
        pattern, labels = self._pattern, self._labels
        if pattern is None or not text:
            return text
        return pattern.sub(lambda match: labels.get(match.group(0), "[redacted]"), text)

    def redact_value(self, value: Any) -> Any:
        """``value`` (JSON-like: dicts, lists, strings) with every string redacted; the same object when
        nothing needed it."""
        if self._pattern is None:
            return value
        return _walk(value, self.redact)


def _forms(value: str) -> set[str]:
    # the raw text, and the JSON-escaped forms the store (ensure_ascii) and the LSP wire write
    return {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}


def _walk(value: Any, redact: Callable[[str], str]) -> Any:
    """A copy of ``value`` with every string redacted; a loop, not recursion: results may nest 1,000 deep."""
    holder: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, holder, 0)]  # (what to copy, where it goes, under which key)
    while stack:
        item, target, key = stack.pop()
        if isinstance(item, str):
            target[key] = redact(item)
        elif isinstance(item, dict):
            copy: dict[Any, Any] = {}
            target[key] = copy
            for name, inner in item.items():
                name = redact(name) if isinstance(name, str) else name
                copy[name] = None
                stack.append((inner, copy, name))
        elif isinstance(item, list | tuple):
            items: list[Any] = [None] * len(item)
            target[key] = items
            stack.extend((inner, items, index) for index, inner in enumerate(item))
        else:
            target[key] = item
    return holder[0]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0


def secret_files(root: Path, secret_patterns: list[str]) -> Iterator[Path]:
    """Regular files under ``root`` whose name matches ``secret_patterns`` (case-insensitively, anywhere),
    and every file inside a secret folder; links are not followed, dependency folders are skipped."""
    from .workspace.ignore import compile_patterns

    rules = compile_patterns(secret_patterns, ignore_case=True)
    if rules is None:
        return
    found = scanned = 0
    stack: list[tuple[str, str, bool]] = [(str(root), "", False)]
    while stack:
        folder, rel_folder, inside_secret = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            scanned += 1
            if scanned > MAX_SCAN_ENTRIES:
                return
            rel = f"{rel_folder}/{entry.name}" if rel_folder else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name in SKIPPED_FOLDERS:
                        continue
                    secret_dir = inside_secret or bool(rules.decide(rel + "/", entry.name + "/"))
                    stack.append((entry.path, rel, secret_dir))
                elif entry.is_file(follow_symlinks=False):
                    if Path(entry.name).suffix.lower() in CODE_SUFFIXES:
                        continue
                    if inside_secret or rules.decide(rel, entry.name):
                        found += 1
                        yield Path(entry.path)
                        if found >= MAX_SECRET_FILES:
                            return
            except OSError:
                continue


class LogFilter(logging.Filter):
    """Redacts every log record's message (installed on the handlers of the CLI and the daemon)."""

    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets.known:
            message = record.getMessage()
            redacted = self.secrets.redact(message)
            if redacted != message:
                record.msg, record.args = redacted, None
            if record.exc_info and record.exc_info[1] is not None:
                text = logging.Formatter().formatException(record.exc_info)
                if self.secrets.redact(text) != text:
                    record.exc_info, record.exc_text = None, self.secrets.redact(text)
        return True


KNOWN = Secrets()
"""The process's secrets: learned from the environment at import, from each workspace when a run starts."""
KNOWN.learn_environment()


def redact(text: str) -> str:
    """``text`` without any secret value this process knows."""
    return KNOWN.redact(text)

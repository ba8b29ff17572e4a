"""Secret values are redacted wherever they turn up: a key pasted into a source file, a token a command
prints, a literal in a script. Nothing with a secret value in it reaches the model (over the real SDK
against the simulator), the run store, the run's result and logs, or report.md."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import RunStore
from workcrew.engine.providers.simulator import SimulatorThread
from workcrew.engine.redaction import KNOWN, Secrets, plausible_secret, secret_files, values_in_file
from workcrew.engine.settings import DEFAULT_SECRET_PATTERNS

from .conftest import API_KEY_VALUE, DOTENV_VALUE, TOKEN_VALUE, RedTeam, leaks, store_leaks
from .test_redteam_tools import tool_results

PEM = """-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEA1x9QzPp3mYb8Zy1Tn9A0c2
/9j+4AAQSkZJRgABAQAAAQABAAD2wBDAAgGBgcG
-----END RSA PRIVATE KEY-----
"""


@pytest.fixture(autouse=True)
def forget_secrets() -> Iterator[None]:
    """The process-wide set starts from this test's environment and workspace only."""
    KNOWN.forget()
    yield
    KNOWN.forget()
    KNOWN.learn_environment()


# -- what counts as a secret value -------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("DB_PASSWORD=hunter2-but-longer\n# a comment = ignored\n", {"hunter2-but-longer"}),
    ('export API_TOKEN="tok en with spaces 123"\n', {"tok en with spaces 123"}),
    ('{"client_secret": "cs_9f8e7d6c5b4a", "port": 8080}\n', {"cs_9f8e7d6c5b4a"}),
    ("//registry.npmjs.org/:_authToken=npm_AbCdEf0123456789\n", {"npm_AbCdEf0123456789"}),
    ("[default]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG\n", {"wJalrXUtnFEMI/K7MDENG"}),
    (PEM, {"MIIEowIBAAKCAQEA1x9QzPp3mYb8Zy1Tn9A0c2", "/9j+4AAQSkZJRgABAQAAAQABAAD2wBDAAgGBgcG"}),
], ids=["dotenv", "export-quoted", "json", "npmrc", "ini", "pem"])
def test_values_are_read_from_every_credentials_format(text: str, expected: set[str]) -> None:
    assert {value for value in values_in_file(text) if plausible_secret(value)} == expected


@pytest.mark.parametrize("value", ["8080", "true", "localhost", "production", "short", "https://api.example.com",
                                   "1234567890123456"])
def test_numbers_words_and_plain_urls_are_not_treated_as_secrets(value: str) -> None:
    assert not plausible_secret(value)


@pytest.mark.parametrize("value", ["sk-ant-api03-abc", "hunter2-longer", "postgres://u:pw@db/x", "ghp_short1"])
def test_credential_shapes_are_secrets(value: str) -> None:
    assert plausible_secret(value)


def test_environment_secrets_by_name_or_shape_but_not_paths() -> None:
    secrets = Secrets()
    secrets.learn_environment({"MY_SERVICE_TOKEN": "tok-123456789", "UNRELATED": "sk-ant-shaped-0001",
                               "GOOGLE_APPLICATION_CREDENTIALS": "/home/u/creds.json", "EDITOR": "vim-editor-x",
                               "SSH_AUTH_SOCK": "/tmp/ssh-agent.sock"})
    text = "tok-123456789 sk-ant-shaped-0001 /home/u/creds.json vim-editor-x /tmp/ssh-agent.sock"
    assert secrets.redact(text) == ("[redacted: MY_SERVICE_TOKEN] [redacted: UNRELATED] /home/u/creds.json "
                                    "vim-editor-x /tmp/ssh-agent.sock")


def test_json_escaped_forms_are_redacted_as_the_store_and_the_lsp_wire_write_them() -> None:
    secrets = Secrets()
    value = 'p"ss\\wörd-1234'
    secrets.learn([("PASSWORD", value)])
    for encoded in (json.dumps({"x": value}), json.dumps({"x": value}, ensure_ascii=False), value):
        redacted = secrets.redact(encoded)
        assert "[redacted: PASSWORD]" in redacted and "ss\\\\w" not in redacted and "wörd" not in redacted
        assert "\\u00f6" not in redacted
    assert json.loads(secrets.redact(json.dumps({"x": f"a {value} b"}))) == {"x": "a [redacted: PASSWORD] b"}


def test_the_longest_value_wins_when_one_secret_contains_another() -> None:
    secrets = Secrets()
    secrets.learn([("SHORT", "abcdefgh12"), ("LONG", "abcdefgh12-and-more")])
    assert secrets.redact("x abcdefgh12-and-more y abcdefgh12") == "x [redacted: LONG] y [redacted: SHORT]"


def test_secret_files_are_found_anywhere_case_insensitively_but_not_in_dependencies(tmp_path: Path) -> None:
    for name in (".env", "config/.ENV", "deploy/prod.pem", ".aws/credentials", "node_modules/x/.env",
                 ".venv/lib/secrets.txt", "src/secret_manager.py", "README.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("X=1\n")
    found = {p.relative_to(tmp_path).as_posix() for p in secret_files(tmp_path, DEFAULT_SECRET_PATTERNS)}
    assert found == {".env", "config/.ENV", "deploy/prod.pem", ".aws/credentials"}


def test_a_workspace_is_read_again_only_when_its_secret_files_change(tmp_path: Path) -> None:
    secrets = Secrets()
    (tmp_path / ".env").write_text("A=first-secret-1\n")
    assert secrets.learn_workspace(tmp_path, DEFAULT_SECRET_PATTERNS) == 1
    assert secrets.learn_workspace(tmp_path, DEFAULT_SECRET_PATTERNS) == 0
    (tmp_path / ".env").write_text("A=first-secret-1\nB=second-secret-2\n")
    import os
    os.utime(tmp_path / ".env", (1, 1))
    assert secrets.learn_workspace(tmp_path, DEFAULT_SECRET_PATTERNS) == 1
    assert secrets.redact("second-secret-2") == "[redacted: .env]"


def test_log_records_are_redacted() -> None:
    import logging

    from workcrew.engine.redaction import LogFilter

    secrets = Secrets()
    secrets.learn([("TOKEN", "tok-0123456789")])
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "sending %s", ("tok-0123456789",), None)
    assert LogFilter(secrets).filter(record)
    assert record.getMessage() == "sending [redacted: TOKEN]"


# -- end to end: a run over the real SDK --------------------------------------------------------------------

PASTED = f'API = "{DOTENV_VALUE}"\nGITHUB = "{TOKEN_VALUE}"\nKEY = "{API_KEY_VALUE}"\n'
ATTACK_CALLS = [
    {"name": "read_file", "input": {"path": "src/settings.py"}},
    {"name": "read_file", "input": {"path": "src/settings.py", "start_line": 2, "end_line": 2}},
    {"name": "grep", "input": {"pattern": "ghp_|sk-ant|dotenv"}},
    {"name": "run_command", "input": {"command": "cat src/settings.py"}},
    {"name": "run_command", "input": {"command": "grep -rh REDTEAM src"}},
]
PY_SCRIPT = f"""
    out = await check("cat src/settings.py")
    log(out["stdout"])
    log("the key is {API_KEY_VALUE}")
    answer = await agent("Here is the config: " + out["stdout"] + " and {TOKEN_VALUE}", label="attack",
                         isolation="worktree")
    return {{"answer": str(answer), "check": out, "literal": "{DOTENV_VALUE}"}}
"""
JS_SCRIPT = f"""
    const out = await check("cat src/settings.py")
    log(out.stdout)
    log("the key is {API_KEY_VALUE}")
    const answer = await agent("Here is the config: " + out.stdout + " and {TOKEN_VALUE}", {{label: "attack",
                               isolation: "worktree"}})
    return {{answer: String(answer), check: out, literal: "{DOTENV_VALUE}"}}
"""


@pytest.mark.parametrize("js", [False, True], ids=["python", "js"])
async def test_pasted_secrets_reach_neither_model_nor_store_nor_result(
        simulator: Callable[..., SimulatorThread], run_api: Any, store: RunStore, redteam: RedTeam,
        workspace: Path, js: bool) -> None:
    (workspace / "src" / "settings.py").write_text(PASTED)  # not a secret file by name: agents may read it
    sim = simulator([{"match": {"label": "^attack"}, "respond": {"tool_calls": ATTACK_CALLS,
                                                                   "text": f"echo {DOTENV_VALUE}"}}])
    result = await run_api(sim, JS_SCRIPT if js else PY_SCRIPT, js=js, command_allowlist=["cat", "grep"])
    assert result.status == "succeeded", result.error
    sent = [json.dumps(request["body"]) for request in sim.server.requests]
    results = tool_results(sim)
    assert len(results) == len(ATTACK_CALLS) and sent
    assert leaks(*sent, *results) == [], "a secret value reached the model"
    # the file was read and its values hidden; grep searches the redacted text, so it finds no value at all
    assert all("[redacted: " in text for index, text in enumerate(results) if index != 2), results
    assert "src/settings.py" not in results[2]
    assert "[redacted: .env]" in sent[0] and "[redacted: GITHUB_TOKEN]" in sent[0]  # the prompt too
    assert leaks(result.result, result.logs, result.error) == [], (result.result, result.logs)
    assert "[redacted: " in result.result["check"]["stdout"] and "[redacted: " in result.logs[-1]
    assert store_leaks(store) == []
    assert result.report_path is not None and leaks(Path(result.report_path).read_text()) == []


def test_deeply_nested_results_are_redacted_without_recursion() -> None:
    secrets = Secrets()
    secrets.learn([("TOKEN", "tok-0123456789")])
    value: Any = "tok-0123456789"
    for depth in range(5000):
        value = {"k": [value]} if depth % 2 else [value, "x"]
    redacted = secrets.redact_value(value)
    while not isinstance(redacted, str):
        redacted = redacted["k"][0] if isinstance(redacted, dict) else redacted[0]
    assert redacted == "[redacted: TOKEN]"

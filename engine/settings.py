"""Run settings: defaults < workcrew.toml / [tool.workcrew] < environment < explicit overrides."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import UsageError

ApprovalPolicy = Literal["always", "threshold", "never"]

DEFAULT_SECRET_PATTERNS = [
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_rsa*",
    "id_ed25519*",
    "id_ecdsa*",
    "*credentials*",
    "*secret*",
    ".npmrc",
    ".pypirc",
    ".netrc",
    ".git-credentials",
    ".aws/**",
    ".ssh/**",
    ".gnupg/**",
]

# Read-only tools only: a project names its test runner, linters and build in workcrew.toml
# (command_allowlist = ["python -m pytest", "make test"]). Every command also passes argument rules
# (engine/command_rules.py) and runs in an OS sandbox (engine/command_sandbox.py).
DEFAULT_COMMAND_ALLOWLIST = [
    "git status",
    "git diff",
    "git log",
    "ls",
    "cat",
    "grep",
    "wc",
]


class ModelRouting(BaseModel):
    """Default model per role; phases can override by title."""

    model_config = ConfigDict(extra="forbid")

    default: str = "claude-sonnet-5-5"
    finder: str | None = "claude-haiku-5-5"
    verifier: str | None = "claude-haiku-5-5"
    fixer: str | None = "claude-sonnet-5-5"
    synthesizer: str | None = "claude-sonnet-5-5"
    orchestrator: str | None = "claude-sonnet-5-5"
    phases: dict[str, str] = Field(default_factory=dict)

    def for_role(self, role: str | None) -> str:
        if role:
            value = getattr(self, role, None)
            if isinstance(value, str):
                return value
        return self.default


WORKFLOW_ROLES = ("finder", "verifier", "fixer", "synthesizer")


def every_role(model: str) -> dict[str, str]:
    """Routing that puts every workflow agent on ``model`` (``--model``, ``WORKCREW_MODEL``): a default
    model the user names must not be overridden by the cheaper per-role defaults."""
    return {"default": model, **dict.fromkeys(WORKFLOW_ROLES, model)}


class Settings(BaseModel):
    """Everything that shapes a run. Field names are the keys of ``workcrew.toml``."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["simulated", "anthropic"] = "simulated"
    scenario: Path | None = None
    models: ModelRouting = Field(default_factory=ModelRouting)
    concurrency: int = Field(16, ge=1, le=256)
    max_agents: int = Field(1000, ge=1, le=100_000)
    max_items: int = Field(4096, ge=1)
    max_script_bytes: int = 512 * 1024
    agent_timeout_s: float = Field(600.0, gt=0)
    sync_slice_s: float = Field(3.0, gt=0, description="longest synchronous stretch of script code")
    script_cpu_s: float = Field(10.0, gt=0, description="CPU seconds a script may hold without a word to the "
                                "engine before its host process is killed (one uninterruptible C call)")
    script_memory_mb: int = Field(1024, ge=256, description="address space of a script's host process")
    max_tokens: int = Field(8192, ge=1, description="max output tokens per model turn")
    max_turns: int = Field(40, ge=1)
    schema_attempts: int = Field(5, ge=1, le=20)
    budget_tokens: int | None = Field(None, ge=0)
    budget_usd: float | None = Field(None, ge=0)
    approval: ApprovalPolicy = "always"
    approval_threshold_usd: float = 1.0
    approval_threshold_agents: int = 25
    state_dir: Path | None = None
    workspace: Path = Field(default_factory=Path.cwd)
    secret_patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_SECRET_PATTERNS))
    excludes: list[str] = Field(default_factory=list)
    command_allowlist: list[str] = Field(default_factory=lambda: list(DEFAULT_COMMAND_ALLOWLIST))
    command_timeout_s: float = 600.0
    allow_unsandboxed_commands: bool = Field(
        False, description="run commands without an OS sandbox when none is available (bubblewrap missing)")
    command_network: bool = Field(False, description="commands may reach the network from their sandbox")
    command_read_paths: list[Path] = Field(
        default_factory=list, description="extra folders commands may read (toolchains), mounted read-only")
    command_pass_env: list[str] = Field(
        default_factory=list, description="environment variables passed to commands (never secret-looking ones)")
    check_command: str | None = Field(
        None, description="the command that judges a fix before the editor applies it (Apply and verify, Fix all), "
        "e.g. \"python -m pytest -q\"; it must be in command_allowlist. A workflow's meta `check` comes first")
    mcp_allowed_hosts: list[str] = Field(
        default_factory=list, description="hosts (\"api.example.com\", \"*.example.com\") the HTTP and SSE MCP servers "
        "of .mcp.json may be reached at; a server elsewhere is not started")
    mcp_network: list[str] = Field(
        default_factory=list, description="names of stdio MCP servers whose sandbox may reach the network")
    mcp_pass_env: list[str] = Field(
        default_factory=list, description="secret-looking environment variables .mcp.json may expand (${GITHUB_TOKEN}) "
        "into a server's env or headers; never Workcrew's own ANTHROPIC_* credentials")
    mcp_approved: list[str] = Field(
        default_factory=list, description="MCP servers of .mcp.json approved for this run by its approval prompt "
        "(not remembered; Claude Code's enabledMcpjsonServers is)")
    mcp_start_timeout_s: float = Field(30.0, gt=0, description="an MCP server's start and handshake")
    mcp_tool_timeout_s: float = Field(300.0, gt=0, description="one MCP tool call (the agent's own timeout also applies)")
    max_file_bytes: int = 1_000_000
    detach_runs: bool = Field(
        True, description="runs started from the editor live in their own process: closing the editor leaves "
                          "them running, and the editor re-attaches when it starts again")
    review_on_save: bool = Field(
        False, description="the editor reviews the changes again when a file its last Review Changes covered is "
                           "saved (debounced, reusing unchanged agents, approval as for any run)")
    executor: Literal["local", "distributed"] = Field(
        "local", description="where agents' tools, worktrees and check() run: this machine, or the workers of a Ray "
                             "cluster (see docs/scale-out.md); model calls, budget and journal stay with the run")
    cluster: str | None = Field(
        None, description="the cluster a distributed run goes to: its head's Ray address, \"HOST:6379\" (the machine "
                    "that runs the run must be a node of it: docs/scale-out.md)")
    api_retries: int = Field(6, ge=0)
    stall_timeout_s: float = Field(60.0, gt=0)
    base_url: str | None = None
    anthropic_platform: Literal["anthropic", "bedrock", "vertex"] = "anthropic"  # which client of the SDK
    otlp_endpoint: str | None = Field(
        None, description="OTLP/HTTP collector that receives a span per run, phase and agent (http://host:4318); "
        "unset: the standard OTEL_EXPORTER_OTLP_*ENDPOINT variables, and without those nothing is sent")
    # -- web research: the API's web search / web fetch server tools, for agents given them (docs/agents.md)
    web_search_max_uses: int = Field(5, ge=1, le=100, description="searches one model request may make")
    web_fetch_max_uses: int = Field(3, ge=1, le=100, description="fetches one model request may make")
    web_fetch_max_content_tokens: int = Field(
        10_000, ge=100, description="a fetched page is cut to about this many tokens (the API's max_content_tokens)")
    web_search_result_tokens: int = Field(
        10_000, ge=100, description="input tokens the budget reserves per search for its results (the API sets no "
        "cap on them)")
    web_allowed_domains: list[str] = Field(
        default_factory=list, description="only these domains are searched and fetched (example.com, no scheme)")
    web_blocked_domains: list[str] = Field(
        default_factory=list, description="these domains are never searched or fetched; not with allowed domains")

    def resolved_state_dir(self) -> Path:
        return (self.state_dir or self.workspace / ".workcrew").resolve()

    def merged(self, **overrides: Any) -> Settings:
        data = self.model_dump()
        for key, value in overrides.items():
            if value is not None:
                data[key] = value
        return _validate(data, "overrides")


def _validate(data: dict[str, Any], origin: str) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise UsageError(f"invalid settings in {origin}:\n" + "\n".join(lines)) from None


def _file_settings(workspace: Path) -> tuple[dict[str, Any], str]:
    toml_path = workspace / "workcrew.toml"
    if toml_path.is_file():
        try:
            return tomllib.loads(toml_path.read_text("utf-8")), str(toml_path)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{toml_path}: {exc}") from None
    pyproject = workspace / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{pyproject}: {exc}") from None
        section = data.get("tool", {}).get("workcrew")
        if isinstance(section, dict):
            return section, f"{pyproject} [tool.workcrew]"
    return {}, "defaults"


def _env_settings(env: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if env.get("WORKCREW_PROVIDER"):
        out["provider"] = env["WORKCREW_PROVIDER"]
    if env.get("WORKCREW_SCENARIO"):
        out["scenario"] = env["WORKCREW_SCENARIO"]
    if env.get("WORKCREW_STATE_DIR"):
        out["state_dir"] = env["WORKCREW_STATE_DIR"]
    if env.get("WORKCREW_MODEL"):
        out["models"] = every_role(env["WORKCREW_MODEL"])
    if env.get("ANTHROPIC_BASE_URL"):
        out["base_url"] = env["ANTHROPIC_BASE_URL"]
    if env.get("WORKCREW_OTLP_ENDPOINT"):
        out["otlp_endpoint"] = env["WORKCREW_OTLP_ENDPOINT"]
    if env.get("WORKCREW_EXECUTOR"):
        out["executor"] = env["WORKCREW_EXECUTOR"]
    if env.get("WORKCREW_CLUSTER"):
        out["cluster"] = env["WORKCREW_CLUSTER"]
    return out


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def load_settings(
    workspace: Path | None = None,
    overrides: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> Settings:
    """Settings for ``workspace``: file, then environment, then ``overrides`` (None values ignored)."""
    ws = (workspace or Path.cwd()).resolve()
    file_data, origin = _file_settings(ws)
    data: dict[str, Any] = {"workspace": ws}
    data = _deep_merge(data, file_data)
    data = _deep_merge(data, _env_settings(dict(os.environ) if env is None else env))
    clean = {k: v for k, v in (overrides or {}).items() if v is not None}
    data = _deep_merge(data, clean)
    data["workspace"] = ws
    settings = _validate(data, origin)
    if settings.scenario is not None and not settings.scenario.is_absolute():
        settings = settings.model_copy(update={"scenario": (Path.cwd() / settings.scenario).resolve()})
    return settings

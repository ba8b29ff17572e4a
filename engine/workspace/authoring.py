"""Authoring: an orchestrator agent writes a workflow script from the user's request and the scope.

The orchestrator is one agent (role ``orchestrator``, so scenario rules can match it) whose system
prompt carries the Python dialect reference and worked examples (``data/authoring_prompt.md``). Its
answer is checked like any script; when the check finds problems they are sent back and the
orchestrator answers with a corrected full script, up to ``max_repairs`` times. The result is saved to
``<workspace>/.claude/workflows/<slug>.py`` (never over a different existing file, never anywhere else)
together with the arguments to run it with: the scope's file list.

    scope = compute_scope(ScopeRequest(workspace), settings)
    authored = await author_workflow("find bugs in the parser", scope, settings)
    if authored.problems: ...            # still broken after the repairs
    start(authored.workflow, authored.args, settings)
"""

from __future__ import annotations

import ast
import json
import os
import pprint
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..agents.loop import AgentSpec, run_agent
from ..cost.budget import Budget
from ..cost.pricing import Usage, cost_usd, price_of
from ..errors import AgentFailed, Problem, WorkcrewError
from ..providers.base import ModelClient
from ..providers.factory import make_client
from ..providers.scenario import Scenario
from ..providers.simulated import SimulatedModel
from ..settings import Settings
from ..workflows.workflow import Workflow, load_workflow
from .scope import Scope
from .simulated_authoring import ORCHESTRATOR_SCENARIO, choose_pattern, orchestrator_scenario

ORCHESTRATOR_ROLE = "orchestrator"
WORKFLOWS_DIR = Path(".claude") / "workflows"
DEFAULT_ARGS_NAME = "DEFAULT_ARGS"
MAX_EMBEDDED_FILES = 2000  # beyond this the file list is too long to embed as the script's default
SUMMARY_FILES = 200  # files listed by name in the orchestrator's prompt

ProgressHook = Callable[[str], None]


class AuthoringError(WorkcrewError):
    """The orchestrator gave no usable answer (API failure, refusal, budget), or the script could not be
    saved: nothing was saved."""


@dataclass
class AuthoredWorkflow:
    """A script the orchestrator wrote, its check result, and what it cost.

    ``problems`` is empty when the script can run. ``args`` is the input to run it with (the scope).
    ``path`` is where it was saved, or None with ``save=False``. ``rounds`` counts orchestrator answers
    (1 when the first draft was clean).
    """

    source: str
    workflow: Workflow
    args: dict[str, Any]
    rounds: int
    problems: list[Problem]
    usage: Usage
    cost_usd: float
    model: str
    path: Path | None = None
    history: list[list[Problem]] = field(default_factory=list)  # the problems of each draft, in order

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def name(self) -> str:
        return self.workflow.name

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path) if self.path else None,
            "name": self.name,
            "ok": self.ok,
            "rounds": self.rounds,
            "problems": [str(p) for p in self.problems],
            "args": self.args,
            "model": self.model,
            "usage": self.usage.to_dict(),
            "cost_usd": round(self.cost_usd, 6),
        }


# -- prompt text ---------------------------------------------------------------------------------

@cache
def system_prompt() -> str:
    """The orchestrator's system prompt: dialect reference, rules and worked examples."""
    return resources.files("workcrew.engine").joinpath("data/authoring_prompt.md").read_text("utf-8")


def scope_args(scope: Scope) -> dict[str, Any]:
    """The input a generated workflow runs with: the scope's files and the selection, if any."""
    args: dict[str, Any] = {"files": scope.paths}
    if scope.selection is not None:
        sel = scope.selection
        args["selection"] = {"path": sel.path, "start_line": sel.start_line, "end_line": sel.end_line}
    return args


def draft_prompt(request: str, scope: Scope) -> str:
    return (
        "Write a workflow script for this request.\n\n"
        f"REQUEST:\n{request.strip()}\n\n"
        f"SCOPE (the run's args['files'] holds these {len(scope.files):,} workspace-relative paths):\n"
        f"{scope.summary(limit=SUMMARY_FILES)}\n\n"
        "Answer with the complete Python script only: it starts with `meta = {...}`."
    )


def repair_prompt(request: str, scope: Scope, source: str, problems: list[Problem]) -> str:
    listed = "\n".join(str(p) for p in problems)
    return (
        "The workflow script you wrote for this request does not pass the check.\n\n"
        f"REQUEST:\n{request.strip()}\n\n"
        f"SCOPE: {len(scope.files):,} files in args['files'] ({scope.total_tokens:,} tokens).\n\n"
        f"YOUR SCRIPT:\n<<<SCRIPT\n{source}\nSCRIPT>>>\n\n"
        f"PROBLEMS (path:line:col: rule: message):\n{listed}\n\n"
        "Fix every problem and answer with the complete corrected script only: it starts with `meta = {...}`."
    )


# -- script text ---------------------------------------------------------------------------------

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:\n[ \t]*```|\Z)", re.S)


def extract_script(answer: str) -> str:
    """The script in a model answer: the largest Python (or untagged) fenced block, else the whole text."""
    blocks: list[tuple[str, str]] = [(str(m.group(1)).lower(), str(m.group(2))) for m in _FENCE.finditer(answer)]
    python = [body for lang, body in blocks if lang in ("", "python", "py", "python3")]
    if python:
        return max(python, key=len).strip("\n") + "\n"
    if blocks:
        return max((body for _, body in blocks), key=len).strip("\n") + "\n"
    return answer.strip("\n") + "\n"


def slugify(text: str, *, fallback: str = "workflow") -> str:
    """A file-name-safe, lower-case name: non-alphanumerics become single dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")
    return slug or fallback


def _first_statement(source: str) -> ast.stmt | None:
    """The script's first top-level statement (the meta literal), parsed on its own.

    The whole script is not a valid module (top-level ``return`` and ``await``), so the shortest
    prefix of lines that parses to one statement is used; positions are the source's own.
    """
    lines = source.splitlines(keepends=True)
    for end in range(1, min(len(lines), 200) + 1):  # a meta literal is short; bound the work
        try:
            tree = ast.parse("".join(lines[:end]))
        except SyntaxError:
            continue
        if tree.body:
            return tree.body[0]
    return None


def _meta_name_node(source: str) -> ast.Constant | None:
    """The string node of ``meta['name']``."""
    first = _first_statement(source)
    if not (isinstance(first, ast.Assign) and isinstance(first.value, ast.Dict)):
        return None
    for key, value in zip(first.value.keys, first.value.values, strict=True):
        if isinstance(key, ast.Constant) and key.value == "name" and isinstance(value, ast.Constant) \
                and isinstance(value.value, str):
            return value
    return None


def _meta_end_line(source: str) -> int | None:
    first = _first_statement(source)
    if isinstance(first, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "meta" for t in first.targets):
        return first.end_lineno
    return None


def meta_name(source: str) -> str | None:
    """The script's ``meta['name']`` as written, or None when it cannot be read."""
    node = _meta_name_node(source)
    return node.value if node is not None and isinstance(node.value, str) else None


def rename(source: str, new_name: str) -> str:
    """``source`` with ``meta['name']`` set to ``new_name`` (unchanged when the name cannot be found)."""
    node = _meta_name_node(source)
    if node is None or node.end_lineno is None or node.end_col_offset is None or node.lineno != node.end_lineno:
        return source
    lines = source.splitlines(keepends=True)
    line = lines[node.lineno - 1]
    prefix = line.encode("utf-8")[: node.col_offset].decode("utf-8")
    suffix = line.encode("utf-8")[node.end_col_offset:].decode("utf-8")
    lines[node.lineno - 1] = prefix + json.dumps(new_name) + suffix
    return "".join(lines)


def embed_default_args(source: str, args: dict[str, Any]) -> str:
    """Put ``DEFAULT_ARGS = {...}`` (the scope when the script was written) right after the meta.

    The script reads ``(args or DEFAULT_ARGS)``, so a saved workflow still runs on its original scope
    when started later without arguments. Scripts that define DEFAULT_ARGS themselves are left alone.
    """
    if re.search(rf"^{DEFAULT_ARGS_NAME}\s*=", source, re.M):
        return source
    end = _meta_end_line(source)
    if end is None:
        return source
    files = args.get("files", [])
    embedded = dict(args)
    note = "# The scope this workflow was written for (`workcrew new`); a run's own args replace it.\n"
    if len(files) > MAX_EMBEDDED_FILES:
        embedded["files"] = []
        note = (f"# The scope ({len(files):,} files) was too large to embed: pass it as args when running.\n")
    literal = pprint.pformat(embedded, width=100, sort_dicts=False)
    lines = source.splitlines(keepends=True)
    block = "\n" + note + f"{DEFAULT_ARGS_NAME} = {literal}\n"
    return "".join(lines[:end]) + block + "".join(lines[end:])


def check_source(source: str, display: str = "workflow.py") -> Workflow:
    """Load and check a Python-dialect script given as text."""
    return load_workflow(display, source=source, dialect="python")


# -- saving --------------------------------------------------------------------------------------

def workflows_dir(workspace: Path) -> Path:
    return workspace.resolve() / WORKFLOWS_DIR


def save_workflow(source: str, workspace: Path, slug: str) -> Path:
    """Write ``source`` to ``.claude/workflows/<slug>.py``; never over a different file (adds -2, -3…).

    An identical existing file is reused. Returns the path written (or reused).
    """
    if slugify(slug) != slug:
        raise WorkcrewError(f"invalid workflow file name {slug!r}: use lower-case letters, digits and dashes")
    folder = workflows_dir(workspace)
    root = workspace.resolve()
    if root not in folder.resolve().parents:  # checked before creating anything
        raise WorkcrewError(f"{folder} leads outside the workspace {root} (a symlink?): not writing there")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkcrewError(f"cannot create {folder}: {exc.strerror}") from None
    data = source.encode("utf-8")
    for n in range(1, 1000):
        path = folder / (f"{slug}.py" if n == 1 else f"{slug}-{n}.py")
        try:
            # O_EXCL: two authors saving the same slug at once never overwrite each other
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as exc:
            if not isinstance(exc, FileExistsError):
                raise WorkcrewError(f"cannot write {path}: {exc.strerror}") from None
            try:
                if path.read_bytes() == data:
                    return path
            except OSError:
                pass
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return path
    raise WorkcrewError(f"{folder} already holds 999 workflows named {slug!r}: pick another --name")


def _free_slug(workspace: Path, slug: str, source: str) -> str:
    """The slug the script will be saved under: ``slug`` unless a different file already uses it."""
    folder = workflows_dir(workspace)
    for n in range(1, 1000):
        candidate = slug if n == 1 else f"{slug}-{n}"
        path = folder / f"{candidate}.py"
        if not path.exists():
            return candidate
        try:
            if path.read_text("utf-8") == rename(source, candidate):
                return candidate
        except (OSError, UnicodeDecodeError):
            pass
    return slug


# -- the loop ------------------------------------------------------------------------------------

def simulated_orchestrator(settings: Settings) -> bool:
    """Whether no model can write the script: the simulated provider with no scenario to script it."""
    return settings.provider == "simulated" and settings.scenario is None


def _orchestrator_client(request: str, name: str | None, settings: Settings) -> ModelClient:
    """The settings' client; for the free first run, a simulated model whose orchestrator answers the built-in
    pattern that fits the request (simulated_authoring), so the script still checks and runs."""
    if simulated_orchestrator(settings):
        rules = orchestrator_scenario(request, slugify(name or request))
        return SimulatedModel(Scenario.from_data(rules, ORCHESTRATOR_SCENARIO))
    return make_client(settings)


async def author_workflow(
    request: str,
    scope: Scope,
    settings: Settings,
    *,
    client: ModelClient | None = None,
    name: str | None = None,
    save: bool = True,
    max_repairs: int = 3,
    on_progress: ProgressHook | None = None,
) -> AuthoredWorkflow:
    """Have the orchestrator write a workflow for ``request`` over ``scope``; check, repair, save.

    ``client`` defaults to the provider in ``settings`` (closed afterwards). ``name`` forces the slug
    (else it comes from the script's ``meta.name``). Problems that remain after ``max_repairs`` repair
    rounds are returned, not raised; the script is still saved so the user can fix it by hand.
    Raises :class:`AuthoringError` when the orchestrator fails outright (API error, refusal, budget) or
    the script cannot be saved, and :class:`UnknownModel` for an orchestrator model with no price.
    The settings' ``budget_tokens`` / ``budget_usd``, when set, bound the authoring too.
    """
    if not request.strip():
        raise AuthoringError("the request is empty: say what the workflow should do")
    if max_repairs < 0:
        raise AuthoringError("max_repairs must be 0 or more")
    model = settings.models.orchestrator or settings.models.default
    price_of(model)  # an unknown model fails here, before anything is spent
    own_client = client is None
    active = client if client is not None else _orchestrator_client(request, name, settings)
    budget = Budget(settings.budget_tokens, settings.budget_usd)
    args = scope_args(scope)
    usage = Usage()
    history: list[list[Problem]] = []
    say = on_progress or (lambda _message: None)
    try:
        source = ""
        workflow: Workflow | None = None
        for round_no in range(1, max_repairs + 2):
            if round_no == 1:
                say("writing the workflow" if not (own_client and simulated_orchestrator(settings)) else
                    f"writing the workflow (simulated orchestrator: the {choose_pattern(request).name} pattern)")
                prompt, label = draft_prompt(request, scope), "author"
            else:
                say(f"repairing the workflow (round {round_no - 1} of {max_repairs})")
                prompt, label = repair_prompt(request, scope, source, history[-1]), f"repair {round_no - 1}"
            spec = AgentSpec(
                prompt=prompt, model=model, label=label, role=ORCHESTRATOR_ROLE, max_tokens=settings.max_tokens,
                max_turns=settings.max_turns, retries=settings.api_retries, system_extra=system_prompt(),
            )
            try:
                outcome = await run_agent(active, spec, budget=budget if budget.limited else None)
            except AgentFailed as exc:
                raise AuthoringError(f"the orchestrator could not write the workflow: {exc.reason}") from None
            usage.add(outcome.usage)
            source = extract_script(outcome.text)
            # the file name is the slug of meta.name: set it now, so a name like "Find Bugs" costs no repair
            chosen = name if name is not None else meta_name(source)
            if chosen is not None:
                source = rename(source, slugify(chosen))
            source = embed_default_args(source, args)
            workflow = check_source(source)
            history.append(workflow.check())
            say("the script checks clean" if not history[-1] else f"{len(history[-1])} problem(s) found")
            if not history[-1]:
                break
        assert workflow is not None
        rounds = len(history)
        path: Path | None = None
        if save:
            slug = slugify(name) if name else slugify(workflow.meta.name if workflow.meta else request)
            final_slug = _free_slug(settings.workspace, slug, source)
            if final_slug != slug or (workflow.meta is not None and workflow.meta.name != final_slug):
                source = rename(source, final_slug)
            try:
                path = save_workflow(source, settings.workspace, final_slug)
            except WorkcrewError as exc:
                raise AuthoringError(f"the workflow was written but could not be saved: {exc}") from None
            workflow = load_workflow(path, origin="project")
            say(f"saved {path}")
        return AuthoredWorkflow(
            source=source, workflow=workflow, args=args, rounds=rounds, problems=workflow.check(), usage=usage,
            cost_usd=cost_usd(model, usage), path=path, history=history,
            model=(f"simulated, the built-in {choose_pattern(request).name} pattern"  # no model wrote it: say so
                   if own_client and simulated_orchestrator(settings) else model),
        )
    finally:
        if own_client:
            await active.aclose()


__all__ = [
    "AuthoredWorkflow",
    "AuthoringError",
    "author_workflow",
    "check_source",
    "extract_script",
    "save_workflow",
    "scope_args",
    "slugify",
    "system_prompt",
]

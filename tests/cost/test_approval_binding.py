"""A remembered approval binds what was approved: the script's digest, the scope and the budget cap."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from workcrew.engine import RunStore, Settings, Workflow
from workcrew.engine.cost.approval import (
    Approval,
    approved_settings,
    binding,
    covered,
    decide,
    forget,
    legacy_key,
    recall,
    remember,
    script_digest,
    what_changed,
)
from workcrew.engine.cost.approval_scope import scope_entries, scope_growth
from workcrew.engine.cost.approval_text import prompt_text
from workcrew.engine.cost.estimate import Estimate, estimate
from workcrew.engine.workspace.scope import Scope, ScopeFile

DIGEST = script_digest("meta = {}\n")


def approval(scope: tuple[str, ...] = ("calc.py", "src/"), cap_usd: float | None = 1.0,
             cap_tokens: int | None = None, digest: str = DIGEST) -> Approval:
    return Approval(workflow="fanout", workspace="/ws", digest=digest, scope=scope, cap_usd=cap_usd,
                    cap_tokens=cap_tokens)


# -- the decision: reuse or ask, and why ---------------------------------------------------------------------


def test_the_same_script_scope_and_cap_reuse_the_approval() -> None:
    assert what_changed(approval(), approval()) == []


def test_a_changed_script_asks_and_names_both_digests() -> None:
    now = approval(digest=script_digest("meta = {}\nawait agent('more')\n"))
    (change,) = what_changed(approval(), now)
    assert change == (f"the script changed since you approved it (sha256 {DIGEST[:8]}… → {now.digest[:8]}…)")


def test_a_wider_scope_asks_and_names_what_was_added() -> None:
    before = approval(scope=("calc.py",))
    assert what_changed(before, approval(scope=("calc.py", "src/new_module/"))) == \
        ["the scope grew: +src/new_module/"]
    assert what_changed(before, approval(scope=("calc.py", "stats.py"))) == ["the scope grew: +stats.py"]
    # new files in a folder that held nothing approved are shown by that folder
    files = ("calc.py", "src/new_module/a.py", "src/new_module/b.py", "src/new_module/deep/c.py")
    assert what_changed(before, approval(scope=files)) == ["the scope grew: +src/new_module/ (3 files)"]
    # a file that was approved does not make its folder approved
    assert what_changed(approval(scope=("src/a.py",)), approval(scope=("src/",))) == ["the scope grew: +src/"]
    assert what_changed(before, approval(scope=(".",))) == ["the scope grew: +the whole workspace"]
    many = tuple(f"m{i}.py" for i in range(8))
    assert scope_growth(("calc.py",), many) == ["+m0.py", "+m1.py", "+m2.py", "+m3.py", "+m4.py", "and 3 more"]


def test_a_higher_cap_asks_and_names_both_amounts() -> None:
    assert what_changed(approval(cap_usd=1.0), approval(cap_usd=5.0)) == ["the budget cap rose from $1.00 to $5.00"]
    assert what_changed(approval(cap_usd=0.1139), approval(cap_usd=0.11392)) == \
        ["the budget cap rose from $0.113900 to $0.113920"]  # never "from $0.1139 to $0.1139"
    assert what_changed(approval(cap_tokens=100_000), approval(cap_tokens=400_000)) == \
        ["the token cap rose from 100,000 to 400,000 tokens"]
    assert what_changed(approval(cap_usd=1.0), approval(cap_usd=None, cap_tokens=10**6)) == \
        ["the run has no USD cap now (you approved up to $1.00)"]
    assert what_changed(approval(cap_usd=1.0, cap_tokens=5000), approval(cap_usd=1.0)) == \
        ["the run has no token cap now (you approved up to 5,000 tokens)"]


def test_a_narrower_scope_or_a_lower_cap_reuses_the_approval() -> None:
    before = approval(scope=("calc.py", "src/"), cap_usd=2.0, cap_tokens=50_000)
    assert what_changed(before, approval(scope=("calc.py",), cap_usd=2.0, cap_tokens=50_000)) == []
    assert what_changed(before, approval(scope=("src/a.py", "src/pkg/", "src/pkg/b.py"), cap_usd=0.5,
                                         cap_tokens=10)) == []
    assert what_changed(approval(scope=(".",), cap_usd=1.0), approval(scope=("calc.py", "docs/"), cap_usd=1.0)) == []
    # the whole workspace does not cover paths outside it
    assert not covered("/etc/passwd", {"."}) and covered("src/x/y.py", {"src/"}) and not covered("srcx.py", {"src/"})


def test_everything_that_changed_is_named() -> None:
    now = approval(scope=("calc.py", "src/", "lib/"), cap_usd=3.0, digest=script_digest("other"))
    changes = what_changed(approval(), now)
    assert [c.split(" ")[1] for c in changes] == ["script", "scope", "budget"]


@pytest.fixture
async def fanout(tmp_path: Path, write_workflow: Callable[..., Workflow]) -> tuple[Workflow, Estimate]:
    workflow = write_workflow('await parallel([agent("task " + str(i)) for i in range(10)])', name="fanout")
    return workflow, await estimate(workflow, None, None, Settings(workspace=tmp_path, provider="anthropic"))


def test_decide_asks_with_the_changes_as_the_reason(tmp_path: Path, fanout: tuple[Workflow, Estimate]) -> None:
    _workflow, result = fanout
    api = Settings(workspace=tmp_path, provider="anthropic")
    assert not decide(result, api, consent=True).ask
    changes = ["the script changed since you approved it (sha256 1a2b3c4d… → 9f8e7d6c…)", "the scope grew: +src/"]
    decision = decide(result, api, changes=changes)
    assert decision.ask and decision.changes == tuple(changes)
    assert decision.reason == "; ".join(changes)
    # --yes, "never" and the simulated model still do not ask
    assert not decide(result, api, yes=True, changes=changes).ask
    assert not decide(result, api.model_copy(update={"approval": "never"}), changes=changes).ask
    # under the threshold it does not ask; above it both reasons are given
    cheap = api.model_copy(update={"approval": "threshold", "approval_threshold_usd": 100.0})
    assert not decide(result, cheap, changes=changes).ask
    dear = cheap.model_copy(update={"approval_threshold_usd": 0.0})
    reason = decide(result, dear, changes=changes).reason
    assert reason.startswith(changes[0]) and "above the approval threshold" in reason


def test_the_prompt_says_what_will_run_and_what_changed(tmp_path: Path, fanout: tuple[Workflow, Estimate]) -> None:
    workflow, result = fanout
    api = Settings(workspace=tmp_path, provider="anthropic")
    args = {"files": ["fanout.py"]}
    bound = binding(workflow, args, None, approved_settings(api, result, budget_given=False), result)
    assert bound.digest == script_digest(workflow.source) and bound.scope == ("fanout.py",)
    assert bound.cap_usd == pytest.approx(result.budget_usd) and bound.cap_tokens is None
    before = replace(bound, digest=DIGEST, scope=("other.py",), cap_usd=bound.cap_usd / 2)
    decision = decide(result, api, changes=what_changed(before, bound))
    text = prompt_text(result, workflow, decision, bound, args)
    assert f"script   {workflow.path} (sha256 {bound.digest[:8]}…)" in text
    assert f"scope    fanout.py in {tmp_path.resolve()}" in text
    assert 'args     {"files": ["fanout.py"]}' in text and "provider anthropic" in text
    assert "hard cap $" in text and "Asked again: you approved this workflow before, but" in text
    assert f"  - the script changed since you approved it (sha256 {DIGEST[:8]}… → {bound.digest[:8]}…)" in text
    assert "  - the scope grew: +fanout.py" in text and "  - the budget cap rose from $" in text
    # no remembered approval: the policy is the reason
    plain = prompt_text(result, workflow, decide(result, api), bound, None)
    assert "Approval needed: the approval policy is 'always'." in plain and "Asked again" not in plain


def test_a_given_budget_is_the_cap_that_is_bound(tmp_path: Path, fanout: tuple[Workflow, Estimate]) -> None:
    workflow, result = fanout
    given = Settings(workspace=tmp_path, provider="anthropic", budget_usd=0.5, budget_tokens=20_000)
    bound = binding(workflow, None, None, approved_settings(given, result, budget_given=True), result)
    assert (bound.cap_usd, bound.cap_tokens) == (0.5, 20_000)
    assert bound.scope == (".",)  # the args name no files: the whole workspace


# -- the scope, as the estimate and the editor see it ------------------------------------------------------


def test_scope_entries_from_args_and_the_editor_scope(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "src" / "pkg").mkdir(parents=True)
    (ws / "src" / "pkg" / "a.py").write_text("x = 1\n")
    (ws / "calc.py").write_text("x = 1\n")
    (ws / "notes").mkdir()
    assert scope_entries(None, None, ws) == (".",)
    assert scope_entries({"focus": "crashes", "skeptics": 3}, None, ws) == (".",)
    # keys that name paths (also a file not written yet, a glob, a folder), nested findings, a selection
    args = {"files": ["calc.py", "src/pkg/", "new.py"], "include": "src/**/*.py",
            "findings": [{"path": "src/pkg/a.py", "title": "Division by zero when empty", "old": "a\nb\n"}],
            "selection": {"path": "calc.py", "start_line": 1, "end_line": 2}, "question": "notes"}
    assert scope_entries(args, None, ws) == ("calc.py", "new.py", "notes/", "src/", "src/pkg/", "src/pkg/a.py")
    # elsewhere a string is a path when it names one; the workspace itself is "."
    assert scope_entries(["calc.py", "rename get_user to fetch_user"], None, ws) == ("calc.py",)
    assert scope_entries({"modules": ["."]}, None, ws) == (".",)
    assert scope_entries({"paths": ["*.py"]}, None, ws) == (".",)
    assert scope_entries({"paths": [(ws / "calc.py").as_uri(), "src/../calc.py"]}, None, ws) == ("calc.py",)
    outside = tmp_path / "elsewhere.py"
    assert scope_entries({"file": str(outside)}, None, ws) == (str(outside.resolve()),)
    # the editor's scope: a Scope, or what the estimate takes (paths, (path, bytes) pairs, a mapping)
    assert scope_entries(None, [("calc.py", 10)], ws) == ("calc.py",)
    editor = Scope(workspace=ws, files=[ScopeFile("src/pkg/a.py", 6, 2), ScopeFile("calc.py", 6, 2)])
    assert scope_entries({"files": editor.paths, "selection": {"path": "calc.py", "start_line": 1, "end_line": 1}},
                         editor, ws) == ("calc.py", "src/pkg/a.py")
    assert scope_entries({"files": ["calc.py"]}, {"src/pkg/a.py": 6}, ws) == ("calc.py", "src/pkg/a.py")
    deep: object = "calc.py"
    for _ in range(10_000):
        deep = [deep]
    assert scope_entries(deep, None, ws) == (".",)  # too deep to look into: nothing named, the whole workspace


# -- remembered in the run store -------------------------------------------------------------------------


def test_remembered_per_workflow_and_project_and_compared(store: RunStore, tmp_path: Path) -> None:
    bound = approval(scope=("calc.py",))
    assert recall(store, bound).approval is None and not recall(store, bound).covers
    saved = remember(store, bound, via="cli")
    assert saved.via == "cli" and saved.approved_at
    assert recall(store, bound).covers
    assert recall(store, replace(bound, scope=())).covers  # narrower
    assert recall(store, replace(bound, cap_usd=0.5)).covers  # lower
    wider = recall(store, replace(bound, scope=("calc.py", "stats.py")))
    assert not wider.covers and wider.changes == ("the scope grew: +stats.py",)
    assert recall(store, replace(bound, workflow="review")).approval is None
    assert recall(store, replace(bound, workspace="/other")).approval is None
    # "always" again replaces the approval: now the wider one is covered
    remember(store, replace(bound, scope=("calc.py", "stats.py")), via="editor")
    assert recall(store, replace(bound, scope=("stats.py",))).covers
    # a second process sees it at once (no writer queue in between)
    other = RunStore(store.state_dir)
    try:
        assert other.get_approval("/ws", "fanout")["via"] == "editor"
    finally:
        other.close()
    forget(store, "fanout", Path("/ws"))
    assert recall(store, bound).approval is None


def test_an_always_from_before_binding_asks_once_more(store: RunStore) -> None:
    bound = approval()
    store.set_value(legacy_key(bound.workflow, Path(bound.workspace)), True)
    store.flush()
    known = recall(store, bound)
    assert not known.covers and "not tied to a script, scope or budget cap" in known.changes[0]
    remember(store, bound, via="cli")
    store.flush()
    assert recall(store, bound).covers and not store.get_value(legacy_key(bound.workflow, Path(bound.workspace)))


def test_a_store_made_before_the_approvals_table_gets_it(tmp_path: Path) -> None:
    state = tmp_path / "old"
    state.mkdir()
    db = sqlite3.connect(state / "workcrew.db")
    db.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
                     "CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                     "INSERT INTO kv VALUES ('x', '1');")
    db.commit()
    db.close()
    store = RunStore(state)
    try:
        remember(store, approval(), via="cli")
        assert recall(store, approval()).covers and store.get_value("x") == 1
    finally:
        store.close()


async def test_a_new_agent_type_mcp_server_or_web_research_asks_again(
        tmp_path: Path, write_workflow: Callable[..., Workflow], store: RunStore) -> None:
    """The script is not all that decides what agents can reach: a repository that gains an agent type with
    WebFetch, a skill or an MCP server asks again even after "always", and says so; web research is named."""
    api = Settings(workspace=tmp_path, provider="anthropic")
    workflow = write_workflow('return await agent("Summarise the release notes", agent_type="reader")', name="notes")
    reader = tmp_path / ".claude" / "agents" / "reader.md"
    reader.parent.mkdir(parents=True)
    reader.write_text("---\nname: reader\ndescription: reads\ntools: Read\n---\nRead carefully.\n")
    result = await estimate(workflow, None, None, api)
    bound = binding(workflow, None, None, approved_settings(api, result, budget_given=False), result)
    assert bound.capabilities  # the project has an agent type: it is bound
    remember(store, bound, via="cli")
    assert recall(store, bound).covers

    reader.write_text("---\nname: reader\ndescription: reads\ntools: Read, WebFetch\n---\nRead carefully.\n")
    widened = await estimate(workflow, None, None, api)
    now = binding(workflow, None, None, approved_settings(api, widened, budget_given=False), widened)
    known = recall(store, now)
    assert not known.covers and known.changes[0] == (
        "the project's agent types, skills or MCP servers, or the run's web research, changed since you approved it")
    assert known.changes[1].startswith("the budget cap rose")  # web fetches cost more, and that is said too
    text = prompt_text(widened, workflow, decide(widened, api, changes=list(known.changes)), now, None)
    assert "Web research: " in text and "page fetches" in text and "what the agents read can appear in them" in text
    (tmp_path / ".mcp.json").write_text('{"mcpServers": {"x": {"command": "x-server"}}}')
    assert binding(workflow, None, None, approved_settings(api, widened, budget_given=False),
                   widened).capabilities != now.capabilities
    # a project with none of them binds nothing extra: approvals from before this field still cover it
    plain = tmp_path / "plain"
    plain.mkdir()
    assert binding(workflow, None, None, Settings(workspace=plain, provider="anthropic"), None).capabilities == ""

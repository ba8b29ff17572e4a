"""Approval: the policy decision, remembered approvals, and `workcrew run` asking before it spends."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import Settings, Workflow
from workcrew.engine.cost.approval import approved_settings, decide
from workcrew.engine.cost.approval_text import prompt_text
from workcrew.engine.cost.estimate import Estimate, estimate
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulator import SimulatorThread

FANOUT = 'meta = {"name": "fanout", "description": "ten agents"}\n' \
         'r = await parallel([agent("task " + str(i), label="t" + str(i)) for i in range(10)])\n' \
         'return {"done": r.succeeded}\n'


@pytest.fixture
async def fanout(tmp_path: Path, write_workflow: Callable[..., Workflow]) -> tuple[Workflow, Estimate]:
    workflow = write_workflow('await parallel([agent("task " + str(i)) for i in range(10)])', name="fanout")
    return workflow, await estimate(workflow, None, None, Settings(workspace=tmp_path, provider="anthropic"))


def test_policy_decides_when_to_ask(tmp_path: Path, fanout: tuple[Workflow, Estimate]) -> None:
    _workflow, result = fanout
    api = Settings(workspace=tmp_path, provider="anthropic")
    assert decide(result, api).ask
    assert not decide(result, api, yes=True).ask
    assert not decide(result, api, consent=True).ask
    assert not decide(result, api.model_copy(update={"approval": "never"})).ask
    assert not decide(result, Settings(workspace=tmp_path, provider="simulated")).ask
    cheap = api.model_copy(update={"approval": "threshold", "approval_threshold_usd": 100.0,
                                   "approval_threshold_agents": 50})
    assert not decide(result, cheap).ask
    many = cheap.model_copy(update={"approval_threshold_agents": 5})
    decision = decide(result, many)
    assert decision.ask and "10 agents > 5" in decision.reason
    dear = cheap.model_copy(update={"approval_threshold_usd": result.cost_usd.high / 2})
    assert decide(result, dear).ask


def test_the_approved_cap_becomes_the_budget_unless_one_is_given(tmp_path: Path,
                                                                  fanout: tuple[Workflow, Estimate]) -> None:
    _workflow, result = fanout
    api = Settings(workspace=tmp_path, provider="anthropic")
    approved = approved_settings(api, result, budget_given=False)
    assert approved.budget_usd == pytest.approx(result.budget_usd)
    assert result.budget_usd > result.cost_usd.high  # room for the turns in flight at their worst case
    given = api.model_copy(update={"budget_usd": 0.5})
    assert approved_settings(given, result, budget_given=True).budget_usd == 0.5


def test_prompt_shows_the_ranges_and_the_cap(fanout: tuple[Workflow, Estimate], tmp_path: Path) -> None:
    workflow, result = fanout
    text = prompt_text(result, workflow, decide(result, Settings(workspace=tmp_path, provider="anthropic")))
    assert "agents   10" in text and " – " in text and "hard cap $" in text and "claude-haiku" not in text
    assert "approval policy is 'always'" in text


# -- through the real CLI ----------------------------------------------------------------------------------


@pytest.fixture
def simulator() -> Iterator[SimulatorThread]:
    sim = SimulatorThread(Scenario.from_data({"rules": []})).start()
    yield sim
    sim.stop()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "fanout.py").write_text(FANOUT)
    (folder / "unknown.py").write_text('meta = {"name": "unknown", "description": "d"}\nawait agent("x", model="gpt-9")\n')
    return folder


def env_for(simulator: SimulatorThread | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKCREW_", "ANTHROPIC_"))}
    if simulator is not None:
        env.update(ANTHROPIC_BASE_URL=simulator.url, ANTHROPIC_API_KEY="sk-ant-test-never-used-for-real")
    return env


def workcrew(project: Path, *argv: str, env: dict[str, str], tty_input: str | None = None) -> tuple[int, str, str]:
    command = [sys.executable, "-m", "workcrew.engine.cli", *argv]
    if tty_input is None:
        done = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=120, env=env,
                              stdin=subprocess.DEVNULL)
        return done.returncode, done.stdout, done.stderr
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(command, cwd=project, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, env=env)
        os.write(master, tty_input.encode())
        out, err = process.communicate(timeout=120)
    finally:
        os.close(slave)
        os.close(master)
    return process.returncode, out, err


def show(project: Path, env: dict[str, str]) -> dict[str, Any]:
    code, out, _err = workcrew(project, "runs", "--json", "--state-dir", "state", env=env)
    runs = json.loads(out)
    if not runs:
        return {}
    code, out, _err = workcrew(project, "show", runs[0]["id"], "--json", "--state-dir", "state", env=env)
    assert code == 0
    detail: dict[str, Any] = json.loads(out)
    return detail


def test_run_without_a_terminal_refuses_with_exit_2_and_spends_nothing(project: Path) -> None:
    code, out, err = workcrew(project, "run", "fanout.py", "--provider", "anthropic", "--state-dir", "state",
                              env=env_for())
    assert code == 2 and out == ""
    assert "needs approval" in err and "--yes" in err and "Nothing was spent" in err and "agents" in err
    assert show(project, env_for()) == {}


def test_unknown_model_exits_2_before_the_run(project: Path) -> None:
    for command in (["run", "unknown.py", "--yes"], ["estimate", "unknown.py"]):
        code, _out, err = workcrew(project, *command, "--provider", "anthropic", "--state-dir", "state",
                                   env=env_for())
        assert code == 2
        assert "gpt-9" in err and "claude-sonnet-5-5" in err
    assert show(project, env_for()) == {}


def test_estimate_command_prints_the_json_shape(project: Path) -> None:
    code, out, _err = workcrew(project, "estimate", "fanout.py", "--provider", "anthropic", "--json",
                               "--state-dir", "state", env=env_for())
    assert code == 0
    data = json.loads(out)
    assert {"agents", "input_tokens", "output_tokens", "cost_usd", "minutes", "by_phase", "by_model"} <= set(data)
    assert data["agents"] == {"low": 10, "expected": 10, "high": 10}
    code, out, _err = workcrew(project, "estimate", "fanout.py", "--provider", "anthropic", "--state-dir", "state",
                               env=env_for())
    assert code == 0 and "agents   10" in out and "cost" in out
    assert not (project / "state").exists()  # an estimate writes nothing, not even the state folder


def test_declining_at_the_prompt_spends_nothing(project: Path, simulator: SimulatorThread) -> None:
    env = env_for(simulator)
    code, _out, err = workcrew(project, "run", "fanout.py", "--provider", "anthropic", "--state-dir", "state",
                               env=env, tty_input="n\n")
    assert code == 2 and "Run it?" in err and "not approved" in err
    assert show(project, env) == {}


def test_always_runs_with_the_approved_cap_and_stops_asking(project: Path, simulator: SimulatorThread) -> None:
    env = env_for(simulator)
    code, _out, err = workcrew(project, "run", "fanout.py", "--provider", "anthropic", "--state-dir", "state",
                               env=env, tty_input="always\n")
    assert code == 0, err
    assert "hard cap $" in err and "Will not ask again" in err
    detail = show(project, env)
    run = detail["run"]
    assert run["status"] == "succeeded" and run["launched"] == 10
    assert run["estimate"]["agents"]["expected"] == 10
    # the approved amount is the run's hard budget, and the run stayed inside it
    assert run["budget_usd"] == pytest.approx(run["estimate"]["budget_usd"])
    assert run["cost_usd"] <= run["budget_usd"]
    assert detail["estimate_vs_actual"]["agents"]["actual"] == 10
    # remembered for this script, scope and cap in this project: no terminal needed the second time
    code, _out, err = workcrew(project, "run", "fanout.py", "--provider", "anthropic", "--state-dir", "state",
                               env=env)
    assert code == 0, err
    assert "approved before for this script, scope and budget cap" in err


def runs_of(project: Path, env: dict[str, str]) -> int:
    code, out, _err = workcrew(project, "runs", "--json", "--state-dir", "state", env=env)
    return len(json.loads(out)) if code == 0 and out.strip() else 0


def test_a_remembered_approval_binds_the_script_scope_and_cap(project: Path, simulator: SimulatorThread) -> None:
    env = env_for(simulator)
    run = ["run", "fanout.py", "--provider", "anthropic", "--state-dir", "state", "--budget-usd", "1"]
    code, _out, err = workcrew(project, *run, env=env, tty_input="always\n")
    assert code == 0, err
    # what will run: the script with its digest, the scope, the provider, the cap
    assert f"script   {project / 'fanout.py'} (sha256 " in err and "scope    the whole workspace" in err
    assert "provider anthropic" in err and "hard cap $1.00" in err and "Will not ask again" in err
    for _ in range(2):  # reused: no terminal needed
        code, _out, err = workcrew(project, *run, env=env)
        assert code == 0 and "approved before" in err, err
    assert runs_of(project, env) == 3
    # a narrower scope and a lower cap reuse it too
    code, _out, err = workcrew(project, *run[:-1], "0.5", "--args", '{"files": ["fanout.py"]}', env=env)
    assert code == 0 and "approved before" in err, err

    # the script changes: asked again, and without a terminal refused, naming both digests; nothing is spent
    script = project / "fanout.py"
    script.write_text(FANOUT.replace("ten agents", "ten agents, edited"))
    code, _out, err = workcrew(project, *run, env=env)
    assert code == 2, err
    assert "needs approval (the script changed since you approved it (sha256 " in err and " → " in err
    assert "Nothing was spent" in err
    assert runs_of(project, env) == 4
    code, _out, err = workcrew(project, *run, env=env, tty_input="n\n")
    assert code == 2 and "Asked again: you approved this workflow before, but" in err
    assert "  - the script changed since you approved it (sha256 " in err and "not approved" in err
    # approving the edited script again ("always") binds the new digest
    code, _out, err = workcrew(project, *run, env=env, tty_input="always\n")
    assert code == 0, err
    code, _out, err = workcrew(project, *run, env=env)
    assert code == 0 and "approved before" in err, err

    # a higher cap asks again, naming both amounts
    code, _out, err = workcrew(project, *run[:-1], "5", env=env)
    assert code == 2 and "the budget cap rose from $1.00 to $5.00" in err, err
    # so does a wider scope: a path outside what was approved (a workflow approved for one file)
    (project / "scoped.py").write_text(FANOUT.replace('"fanout"', '"scoped"'))
    scoped = [*run, "--args", '{"files": ["fanout.py"]}']
    scoped[1] = "scoped.py"
    code, _out, err = workcrew(project, *scoped, env=env, tty_input="always\n")
    assert code == 0 and "scope    fanout.py in" in err, err
    (project / "src" / "new_module").mkdir(parents=True)
    wider = [*scoped[:-1], '{"files": ["fanout.py", "src/new_module/"]}']
    code, _out, err = workcrew(project, *wider, env=env)
    assert code == 2 and "the scope grew: +src/new_module/" in err, err
    # --yes approves it once without remembering it
    code, _out, err = workcrew(project, *wider, "--yes", env=env)
    assert code == 0, err
    code, _out, err = workcrew(project, *wider, env=env)
    assert code == 2 and "the scope grew: +src/new_module/" in err, err

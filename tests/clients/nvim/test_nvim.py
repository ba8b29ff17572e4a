"""Headless Neovim's built-in LSP client drives the whole flow against ``workcrew serve`` (see roundtrip.lua)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "lsp"
SCRIPT = Path(__file__).with_name("roundtrip.lua")

pytestmark = pytest.mark.slow


def scenario() -> dict:
    from tests.lsp.conftest import scenario as lsp_scenario

    return lsp_scenario()


@pytest.mark.skipif(shutil.which("nvim") is None, reason="Neovim is not installed: apt-get install -y neovim")
def test_neovim_creates_runs_and_fixes(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(FIXTURES / "workspace", workspace)
    (tmp_path / "scenario.json").write_text(json.dumps(scenario()))
    result_path = tmp_path / "result.json"
    env = {
        **os.environ,
        "WORKCREW_PROVIDER": "simulated", "WORKCREW_SCENARIO": str(tmp_path / "scenario.json"),
        "WORKCREW_MODEL": "simulated",
        "WORKCREW_NVIM_WORKSPACE": str(workspace), "WORKCREW_NVIM_RESULT": str(result_path),
        "WORKCREW_NVIM_SERVER": json.dumps([sys.executable, "-m", "workcrew.server"]),
        "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    env.pop("WORKCREW_STATE_DIR", None)
    done = subprocess.run(["nvim", "--headless", "-u", "NONE", "-n", "-c", f"luafile {SCRIPT}"],
                          env=env, cwd=workspace, capture_output=True, text=True, timeout=120)
    assert result_path.exists(), f"Neovim wrote no result\nstdout: {done.stdout}\nstderr: {done.stderr}"
    out = json.loads(result_path.read_text())
    assert out["ok"], out
    assert out["approval"].startswith("Run “review-division”: ")
    assert out["approvals"] == [["Run", "Details", "Always run", "Cancel"], ["Run", "Always run", "Review script", "Cancel"]]
    # Neovim 0.7 does not advertise window/showDocument, so the server does not send it: Details says where the
    # page is, and the page lists the file in scope
    assert "shown" not in out
    (page,) = [m.removeprefix("Workcrew: the details of this run are in ") for m in out.get("messages", [])
               if m.startswith("Workcrew: the details of this run are in ")]
    assert Path(page).parent == workspace / ".workcrew" / "approvals" and "`calc.py`" in Path(page).read_text()
    assert out["command"]["path"].endswith("/.claude/workflows/review-division.py")
    assert out["command"]["status"] == "running"
    assert out["finished"]["status"] == "succeeded"
    run = out["command"]["runId"].removeprefix("wf_")[:6]
    # the Problems list names the workflow and the run; the message's last line is the finding's age
    assert out["diagnostic"] == {"lnum": 2, "col": 4, "source": f"Workcrew · review-division · run {run}",
                                 "message": out["diagnostic"]["message"]}
    assert out["diagnostic"]["message"].endswith("first seen just now")
    assert out["diagnostic"]["message"].startswith("Division by zero when values is empty")
    # no change annotations in Neovim 0.7: no "Preview fix…"; it applies edits, so "Apply and verify" is offered
    assert out["actions"] == ["Apply fix: return 0.0 for an empty list",
                              "Apply and verify fix: return 0.0 for an empty list", "Dismiss finding"]
    assert out["deferred"] is True  # Neovim 0.7 resolves edits lazily
    assert "return total / len(values) if values else 0.0" in out["text"]
    assert out["cleared"] is True

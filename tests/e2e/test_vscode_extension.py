"""The whole editor flow in real VS Code (code-server) driven through Debian's Chromium.

select code → "Workcrew: Create Workflow from Selection" → type the request → Details on the approval
notification → Open script and Run in the details panel → the Runs view shows phases and agents → the finding is in the Problems panel → the
"Apply fix: …" quick fix from the lightbulb → save → the file on disk changed.

The packaged .vsix is installed into a fresh code-server; the daemon is the repository's workcrew with the
simulated model (provider and scenario come from the workspace settings, as a user would set them).
Screenshots of every step go to test-output/e2e/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .codeserver import CodeServer, RunningCodeServer, clean_env
from .scenario import BUGGY_LINE, FINDING_TITLE, FIXED_LINE, write_scenario
from .ui import Steps, go_to_line, launch, require_chromium, run_command, wait_until

require_chromium()
pytestmark = pytest.mark.slow

FIXTURE_WORKSPACE = Path(__file__).resolve().parent / "fixtures" / "workspace"
REQUEST = "Find real bugs in this code, verify each one and propose fixes"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURE_WORKSPACE, ws)
    scenario = write_scenario(tmp_path / "scenario.json")
    (ws / ".vscode").mkdir()
    (ws / ".vscode" / "settings.json").write_text(json.dumps({
        # the repository's virtualenv has workcrew installed, so the private-install path is not taken
        "workcrew.interpreter": [sys.executable],
        "workcrew.provider": "simulated",
        "workcrew.scenario": str(scenario),
        "workcrew.stateDir": str(tmp_path / "state"),
        "workcrew.approval": "always",
        "files.autoSave": "off",
    }, indent=2))
    return ws


@pytest.fixture
def server(code_server: CodeServer, vsix: Path, workspace: Path, tmp_path: Path) -> Iterator[RunningCodeServer]:
    running = launch(code_server, vsix, workspace, tmp_path / "code-server")
    yield running
    running.stop()


def base_python() -> Path:
    """A Python 3.11+ without workcrew: Debian's, else the one this virtualenv was made from."""
    system = Path("/usr/bin/python3")
    if system.exists() and subprocess.run([system, "-c", "import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))"],
                                          capture_output=True).returncode == 0:
        return system
    return Path(getattr(sys, "_base_executable", sys.executable))


@pytest.fixture
def fresh_server(code_server: CodeServer, vsix: Path, tmp_path: Path) -> Iterator[RunningCodeServer]:
    """VS Code on a machine that only has Python: no interpreter setting, `python3` lacks workcrew."""
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURE_WORKSPACE, ws)
    (ws / ".vscode").mkdir()
    (ws / ".vscode" / "settings.json").write_text(json.dumps({"workcrew.provider": "simulated"}))
    # First on PATH, unless the login shell's environment (which VS Code merges in) puts another
    # python3 first; either way it is a plain interpreter without workcrew.
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "python3").symlink_to(base_python())
    env = clean_env()
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(name, None)
    env["PATH"] = f"{shim}{os.pathsep}{env.get('PATH', '')}"
    running = launch(code_server, vsix, ws, tmp_path / "code-server", env)
    yield running
    running.stop()


def test_selection_to_fixed_file(page: Page, server: RunningCodeServer, workspace: Path) -> None:
    steps = Steps(page, server, "selection-to-fix")
    calc = workspace / "calc.py"
    assert BUGGY_LINE in calc.read_text()
    try:
        page.goto(f"{server.url}/?folder={workspace}")
        page.locator("div.monaco-workbench").wait_for(timeout=60_000)

        # The extension activated and its daemon answered: the status-bar item shows the idle icon.
        page.locator(".statusbar-item .codicon-checklist").wait_for(timeout=60_000)
        steps.shot("workbench-daemon-running")

        # Open calc.py and select average() (lines 4-6).
        page.keyboard.press("Control+P")
        page.locator(".quick-input-widget input").fill("calc.py")
        page.locator(".quick-input-widget .monaco-list-row", has_text="calc.py").first.wait_for(timeout=10_000)
        page.keyboard.press("Enter")
        page.locator(".tab", has_text="calc.py").wait_for(timeout=15_000)
        editor = page.locator(".monaco-editor .view-lines").first
        editor.wait_for(timeout=15_000)
        editor.click()
        go_to_line(page, 4)
        page.keyboard.press("Home")
        for _ in range(3):
            page.keyboard.press("Shift+ArrowDown")
        page.locator(".monaco-editor .selected-text").first.wait_for(timeout=5_000)
        steps.shot("selection")

        # Create Workflow from Selection → the request in the input box.
        run_command(page, "Workcrew: Create Workflow from Selection")
        prompt = page.locator(".quick-input-widget input")
        page.locator(".quick-input-widget", has_text="What should the workflow do").wait_for(timeout=10_000)
        prompt.fill(REQUEST)
        steps.shot("request")
        page.keyboard.press("Enter")

        # The approval notification: one line with the estimate (its details id hidden); Details opens the panel.
        toast = page.locator(".notification-toast", has_text="Run “review-selection”").first
        toast.wait_for(timeout=60_000)
        expect(toast).to_contain_text(" agents · ")
        expect(toast).not_to_contain_text("details:")
        steps.shot("approval")
        toast.get_by_role("button", name="Details", exact=True).click()

        # The details panel: the file in scope; "Open script" shows the script beside it; its Run approves.
        page.locator(".tab", has_text="Run review-selection?").wait_for(timeout=15_000)
        panel = page.frame_locator("iframe.webview.ready").last.frame_locator("#active-frame")
        panel.get_by_role("heading", name="Files in scope", exact=False).wait_for(timeout=15_000)
        panel.locator("td code", has_text="calc.py").first.wait_for(timeout=5_000)
        steps.shot("approval-details")
        panel.get_by_role("button", name="Open script", exact=True).click()
        page.locator(".tab.active", has_text="review-selection.py").wait_for(timeout=15_000)
        steps.shot("review-script")
        panel.get_by_role("button", name="Run", exact=True).click()

        # The Runs view (opened from the status-bar item) shows the run's phases and agents.
        page.locator(".statusbar-item", has=page.locator(".codicon-sync, .codicon-checklist")).first.click()
        runs = page.locator(".pane", has=page.locator(".pane-header", has_text="Runs")).first
        run_row = runs.locator(".monaco-list-row", has_text="review-selection").first
        run_row.wait_for(timeout=60_000)
        for label in ("Find", "Verify", "find calc.py", "verify calc.py:6#0", "verify calc.py:6#1"):
            runs.locator(".monaco-list-row", has_text=label).first.wait_for(timeout=60_000)
        expect(run_row).to_contain_text("succeeded", timeout=60_000)
        for agent in ("find calc.py", "verify calc.py:6#0", "verify calc.py:6#1"):
            expect(runs.locator(".monaco-list-row", has_text=agent).first).to_contain_text("succeeded")
        finished = page.locator(".notification-toast", has_text="review-selection succeeded: 1 finding").first
        finished.wait_for(timeout=30_000)
        steps.shot("runs-view")


        # The confirmed finding is in the Problems panel.
        page.keyboard.press("Control+Shift+M")
        problems = page.locator(".markers-panel")
        problems.locator(".monaco-list-row", has_text=FINDING_TITLE).first.wait_for(timeout=60_000)
        steps.shot("problems")

        # The lightbulb's "Apply fix: …" on the finding's line.
        page.locator(".tab", has_text="calc.py").first.click()
        page.locator(".tab.active", has_text="calc.py").wait_for(timeout=10_000)
        page.locator(".monaco-editor .squiggly-warning, .monaco-editor .squiggly-error").first.wait_for(timeout=30_000)
        page.locator(".monaco-editor .view-lines").first.click()  # keyboard focus into the editor
        go_to_line(page, 6)
        page.keyboard.press("End")
        page.keyboard.press("Control+.")
        action = page.locator(".action-widget .monaco-list-row", has_text="Apply fix:").first
        action.wait_for(timeout=30_000)
        steps.shot("quick-fix")
        action.click()

        # The editor holds the fix; saving writes it to disk.
        page.locator(".monaco-editor .view-lines", has_text="if values else 0.0").first.wait_for(timeout=15_000)
        page.keyboard.press("Control+S")
        wait_until(lambda: FIXED_LINE in calc.read_text(), 15, "the fix in calc.py on disk")
        steps.shot("fixed-and-saved")

        # The run's context menu in the Runs view: "Open Report" shows the rendered Markdown report.
        run_row.click(button="right")
        item = page.locator(".monaco-menu .action-item", has_text="Open Report").first
        item.wait_for(timeout=10_000)
        # The menu drops a mouse-up that comes right after it opened; hover-to-focus + Enter does not race.
        item.hover()
        page.keyboard.press("Enter")
        page.locator(".tab.active", has_text="Preview report.md").wait_for(timeout=15_000)
        # The preview is a webview (two nested iframes); its text is the report's.
        report = page.frame_locator("iframe.webview.ready").last.frame_locator("#active-frame")
        report.get_by_text(FINDING_TITLE).first.wait_for(timeout=30_000)
        steps.shot("report")
    except Exception:
        steps.failed()
        raise
    text = calc.read_text()
    assert FIXED_LINE in text and BUGGY_LINE + "\n" not in text
    authored = workspace / ".claude" / "workflows" / "review-selection.py"
    assert authored.exists(), "the orchestrator's script was saved in the workspace"


def test_fresh_machine_gets_a_private_environment(page: Page, fresh_server: RunningCodeServer) -> None:
    """Only Python on the machine: the extension offers the install, builds its own virtualenv from the
    wheel inside the .vsix (dependencies from the package index), and starts the daemon from it."""
    steps = Steps(page, fresh_server, "fresh-install")
    try:
        page.goto(f"{fresh_server.url}/?folder={fresh_server.workspace}")
        page.locator("div.monaco-workbench").wait_for(timeout=60_000)
        offer = page.locator(".notification-toast", has_text="Workcrew is not installed for").first
        offer.wait_for(timeout=60_000)
        steps.shot("install-offer")
        offer.get_by_role("button", name="Install", exact=True).click()
        page.locator(".notification-toast", has_text="Workcrew is installed in a private environment").first.wait_for(timeout=420_000)
        page.locator(".statusbar-item .codicon-checklist").wait_for(timeout=60_000)
        # The daemon from the private environment answers: the Saved Workflows view lists the built-ins.
        page.locator(".statusbar-item", has=page.locator(".codicon-checklist")).first.click()
        saved = page.locator(".pane", has=page.locator(".pane-header", has_text="Saved Workflows")).first
        saved.locator(".monaco-list-row", has_text="built-in").first.wait_for(timeout=30_000)
        steps.shot("daemon-from-private-environment")
    except Exception:
        steps.failed()
        raise
    pythons = list(fresh_server.user_data.glob("**/globalStorage/workcrew.workcrew/venv/bin/python"))
    assert len(pythons) == 1, "the virtualenv lives in the extension's global storage"
    probe = subprocess.run([pythons[0], "-c", "import workcrew.server, workcrew.engine"], capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr

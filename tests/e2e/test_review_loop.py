"""Issue #17's review loop in real VS Code (code-server), from a fresh workspace with no API key and no scenario.

1. The built-in review, run from the Saved Workflows view with no arguments, reviews the workspace's source
   files; the simulated model's pattern finders report four findings with one-line fixes.
2. Details on the approval notification shows the files in scope and what was left out (a dependency folder,
   a secret file); Run in the panel approves.
3. The Problems panel lists the findings with their workflow, run and age.
4. Apply and verify keeps the fix the unit tests pass with and refuses the one that breaks them.
5. Dismissing a bare `except:` as a false positive writes a project rule, which dismisses the other bare
   `except:` too; running the review again reports neither (the run's report lists them as suppressed).
6. After reloading the window the finding still open is back in the Problems panel.

Screenshots of every step go to test-output/e2e/; with WORKCREW_README_SHOTS=1 the ones the extension's
README shows are also copied to vscode-extension/media/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from .codeserver import CodeServer, RunningCodeServer, clean_env
from .ui import (
    Steps,
    clear_notifications,
    context_menu_item,
    expand_notification,
    maximize_panel,
    notification,
    open_file,
    open_workbench,
    pick,
    problems,
    problems_badge,
    quick_fix,
    require_chromium,
    view_pane,
    wait_until,
    webview,
)
from .ui import launch as launch_code_server

require_chromium()
pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "review_loop"
CHECK = "python -m unittest -q"
SOURCES = ("stats.py", "missing.py", "loader.py", "cache.py")  # what the review's default scope passes
# what the simulated finders report (engine/providers/simulated_findings.py), as the Problems panel shows it
DIVISION = "Division by zero when `values` is empty"
NONE_COMPARE = "Comparison with None using"
BARE_EXCEPT = "Bare `except:` also catches"
DIVISION_LINE, DIVISION_FIXED = "    return total / len(values)\n", "    return total / len(values) if values else 0.0\n"
NONE_LINE = "    return value == None\n"
NOTE = "a missing or unreadable settings file means the defaults"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURE, ws)
    # Left out of every scope; made here because the repository's .gitignore keeps node_modules/ out of git.
    (ws / "node_modules" / "leftpad").mkdir(parents=True)
    (ws / "node_modules" / "leftpad" / "index.js").write_text("module.exports = (s, n) => s.padStart(n);\n")
    (ws / ".env").write_text("REPORTS_TOKEN=placeholder-not-a-secret\n")
    (ws / ".vscode").mkdir()
    (ws / ".vscode" / "settings.json").write_text(json.dumps({
        # the repository's virtualenv has workcrew installed, so the private-install path is not taken
        "workcrew.interpreter": [sys.executable],
        "workcrew.provider": "simulated",
        "workcrew.stateDir": str(tmp_path / "state"),
        "workcrew.approval": "always",
        "workcrew.checkCommand": CHECK,
        "files.autoSave": "off",
    }, indent=2))
    return ws


@pytest.fixture
def server(code_server: CodeServer, vsix: Path, workspace: Path, tmp_path: Path) -> Iterator[RunningCodeServer]:
    """code-server as on a machine with no API key and no scenario; the check's `python` is this virtualenv's,
    first on PATH as an activated project virtualenv would be (the command sandbox runs it from PATH)."""
    env = clean_env()
    for name in [n for n in env if n == "ANTHROPIC_API_KEY" or n.startswith("WORKCREW_")]:
        del env[name]
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    # VS Code merges a login shell's environment into the extension host's unless it was started from its CLI:
    # that would bring back what was removed here and put the shell's python (a pyenv shim, which cannot run
    # in the command sandbox) ahead of this one.
    env["VSCODE_CLI"] = "1"
    running = launch_code_server(code_server, vsix, workspace, tmp_path / "code-server", env)
    yield running
    running.stop()


def run_review_with_no_arguments(page: Page, steps: Steps) -> None:
    """Saved Workflows → the built-in review's inline Run → an empty arguments box (the workspace's scope)."""
    saved = view_pane(page, "Saved Workflows")
    row = saved.locator(".monaco-list-row", has=page.locator(".label-name", has_text=re.compile(r"^review$"))).first
    row.wait_for(timeout=30_000)
    row.hover()
    row.get_by_role("button", name="Run", exact=True).click()
    box = page.locator(".quick-input-widget", has_text="Arguments")
    box.wait_for(timeout=10_000)
    box.locator("input").fill("")
    steps.shot("review-with-no-arguments")
    page.keyboard.press("Enter")


def approve(page: Page, steps: Steps, name: str) -> None:
    """Run on the approval notification of a review run."""
    toast = notification(page, "Run “review”")
    toast.wait_for(timeout=60_000)
    expect(toast).to_contain_text(" agents · ")
    steps.shot(name)
    toast.get_by_role("button", name="Run", exact=True).click()


def finding_row(page: Page, text: str) -> Locator:
    return problems(page).locator(".monaco-list-row", has_text=text)


def test_review_loop(page: Page, server: RunningCodeServer, workspace: Path, tmp_path: Path) -> None:
    steps = Steps(page, server, "review-loop")
    originals = {name: (workspace / name).read_text() for name in SOURCES}
    assert DIVISION_LINE in originals["stats.py"] and NONE_LINE in originals["missing.py"]
    rules_file = workspace / ".claude" / "workcrew-rules.md"
    page.set_viewport_size({"width": 1400, "height": 1000})  # the details panel's scope tables in one screen
    try:
        open_workbench(page, server)
        open_file(page, "stats.py")

        # 1. The first run: the built-in review over the workspace, asked for in one line.
        run_review_with_no_arguments(page, steps)
        toast = notification(page, "Run “review”")
        toast.wait_for(timeout=60_000)
        expect(toast).to_contain_text(" agents · ")
        expect(toast).to_contain_text(f"{len(SOURCES)} files")
        steps.shot("first-run-approval", "review-1-first-run-approval")

        # 2. Details: the files in scope, and what was left out and why; Run in the panel approves.
        toast.get_by_role("button", name="Details", exact=True).click()
        page.locator(".tab", has_text="Run review?").wait_for(timeout=15_000)
        panel = webview(page)
        panel.get_by_role("heading", name="Files in scope", exact=False).wait_for(timeout=15_000)
        for name in SOURCES:
            panel.locator("td code", has_text=name).first.wait_for(timeout=5_000)
        panel.get_by_role("heading", name="Left out", exact=True).wait_for(timeout=5_000)
        left_out = panel.locator("table", has_text="Why").last
        expect(left_out).to_contain_text("node_modules")
        expect(left_out).to_contain_text("secret")
        steps.shot("details-scope", "review-2-details-scope")
        panel.get_by_role("button", name="Run", exact=True).click()

        # 3. The run ends; the Problems panel lists the findings with their workflow, run and age.
        notification(page, "review succeeded: 4 findings").wait_for(timeout=90_000)
        problems(page)
        expect(problems_badge(page)).to_have_text("4", timeout=30_000)
        maximize_panel(page, True)
        for text in (DIVISION, NONE_COMPARE):
            row = finding_row(page, text).first
            row.wait_for(timeout=30_000)
            expect(row).to_contain_text("(simulated)")  # the pattern finders' answers: no key, no scenario
            expect(row).to_contain_text("Workcrew · review · run ")
            expect(row).to_contain_text("first seen")
        expect(finding_row(page, BARE_EXCEPT)).to_have_count(2)
        steps.shot("problems", "review-3-problems")
        maximize_panel(page, False)

        # 4a. Apply and verify on the division: the tests pass with the fix, so it lands in the buffer.
        clear_notifications(page)
        open_file(page, "stats.py")
        action = quick_fix(page, 6, "Apply and verify fix:")
        steps.shot("apply-and-verify-menu")
        pick(page, action)
        kept = notification(page, "Workcrew applied")
        kept.wait_for(timeout=90_000)
        expect(kept).to_contain_text(f"`{CHECK}` passes with it")
        page.locator(".monaco-editor .view-lines", has_text="if values else 0.0").first.wait_for(timeout=15_000)
        expand_notification(kept)
        steps.shot("verified-fix-applied", "review-4-verify-kept")
        page.keyboard.press("Control+S")
        wait_until(lambda: DIVISION_FIXED in (workspace / "stats.py").read_text(), 15, "the verified fix on disk")
        expect(problems_badge(page)).to_have_text("3", timeout=15_000)  # a fix applied closes its finding

        # 4b. Apply and verify on `== None`: `is None` breaks a test, so nothing is applied.
        clear_notifications(page)
        open_file(page, "missing.py")
        pick(page, quick_fix(page, 20, "Apply and verify fix:"))
        refused = notification(page, "Workcrew did not apply")
        refused.wait_for(timeout=90_000)
        expect(refused).to_contain_text(f"the fix breaks the check: `{CHECK}` fails with the fix")
        expect(page.locator(".tab.active", has_text="missing.py")).not_to_have_class(re.compile(r"\bdirty\b"))
        page.locator(".monaco-editor .view-lines", has_text="return value == None").first.wait_for(timeout=5_000)
        expand_notification(refused)
        steps.shot("verify-refused", "review-5-verify-refused")
        assert (workspace / "missing.py").read_text() == originals["missing.py"]
        expect(problems_badge(page)).to_have_text("3")

        # 5. Dismiss one bare `except:` as a false positive with a note: a project rule, which also
        # dismisses the other bare `except:` (in cache.py).
        clear_notifications(page)
        open_file(page, "loader.py")
        pick(page, quick_fix(page, 10, "Dismiss finding"))
        reason = page.locator(".quick-input-widget .monaco-list-row", has_text="False positive").first
        reason.wait_for(timeout=10_000)
        steps.shot("dismiss-reason", "review-6-dismiss-reason")
        reason.click()
        note = page.locator(".quick-input-widget", has_text="as false positive")
        note.wait_for(timeout=10_000)
        note.locator("input").fill(NOTE)
        steps.shot("dismiss-note")
        page.keyboard.press("Enter")
        dismissed = notification(page, "Dismissed as a false positive; later reviews follow the new project rule")
        dismissed.wait_for(timeout=30_000)
        expect(dismissed).to_contain_text("It also covers 1 other open finding")
        wait_until(rules_file.exists, 15, f"the project rule in {rules_file}")
        rule = rules_file.read_text()
        assert "- kind: false-positive" in rule and NOTE.capitalize() in rule, rule
        assert "- matches: bare `except:` also catches keyboardinterrupt" in rule.lower(), rule
        expect(problems_badge(page)).to_have_text("1", timeout=30_000)  # both bare `except:` left Problems
        dismissed.get_by_role("button", name="Open Rule", exact=True).click()
        page.locator(".tab.active", has_text="workcrew-rules.md").wait_for(timeout=15_000)
        steps.shot("rule-file", "review-7-rule-file")

        # ... and the next run does not report that class: Run Again on the first run, approved.
        clear_notifications(page)
        runs = view_pane(page, "Runs")
        first_run = runs.locator(".monaco-list-row", has_text="review").first
        first_run.wait_for(timeout=15_000)
        context_menu_item(page, first_run, "Run Again (Reuse Unchanged Agents)")
        approve(page, steps, "second-run-approval")
        started = notification(page, "review started (run wf_")
        started.wait_for(timeout=30_000)
        second_run = re.search(r"run wf_([0-9a-f]{6})", started.inner_text())
        assert second_run is not None, started.inner_text()
        notification(page, "review succeeded").wait_for(timeout=90_000)
        problems(page)
        maximize_panel(page, True)
        # the `== None` finding as the second run reported it, and nothing of the class the rule covers
        still_open = finding_row(page, NONE_COMPARE).first
        expect(still_open).to_contain_text(f"Workcrew · review · run {second_run.group(1)}", timeout=30_000)
        expect(problems_badge(page)).to_have_text("1")
        expect(finding_row(page, BARE_EXCEPT)).to_have_count(0)
        expect(finding_row(page, DIVISION)).to_have_count(0)
        steps.shot("second-run-no-bare-except", "review-8-rerun-suppressed")
        reports = tmp_path / "state" / "runs"
        wait_until(lambda: any("Suppressed by project rules (2)" in p.read_text() for p in reports.glob("*/report.md")),
                   30, "a report listing the two bare `except:` findings as suppressed by the rule")

        # 6. Reload the window: a new daemon restores the open finding from the run store.
        page.reload()
        page.locator("div.monaco-workbench").wait_for(timeout=60_000)
        page.locator(".statusbar-item .codicon-checklist").wait_for(timeout=60_000)
        problems(page)
        maximize_panel(page, True)
        row = finding_row(page, NONE_COMPARE).first
        row.wait_for(timeout=60_000)
        expect(row).to_contain_text(f"Workcrew · review · run {second_run.group(1)}")
        expect(row).to_contain_text("first seen")
        expect(problems_badge(page)).to_have_text("1")
        expect(finding_row(page, BARE_EXCEPT)).to_have_count(0)
        expect(finding_row(page, DIVISION)).to_have_count(0)
        steps.shot("restored-after-reload", "review-9-restored-after-reload")
    except Exception:
        steps.failed()
        raise
    assert (workspace / "stats.py").read_text() == originals["stats.py"].replace(DIVISION_LINE, DIVISION_FIXED)
    assert (workspace / "missing.py").read_text() == originals["missing.py"]
    for name in ("loader.py", "cache.py"):
        assert (workspace / name).read_text() == originals[name], f"dismissing changed {name}"

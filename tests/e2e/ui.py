"""What the end-to-end tests share: starting code-server with the packaged extension, numbered screenshots,
and the few VS Code gestures they all make (Quick Open, the Command Palette, Go to Line, the lightbulb,
the Problems panel, notifications).

Every wait is on the page (Playwright's waits) or on disk (:func:`wait_until`), never a fixed sleep.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import FrameLocator, Locator, Page

from .codeserver import (
    CHROMIUM,
    INSTALL_HINT,
    ROOT,
    CodeServer,
    RunningCodeServer,
    install_extension,
    write_user_settings,
)

SHOTS = ROOT / "test-output" / "e2e"
README_SHOTS = ROOT / "vscode-extension" / "media" / "screenshots"
README_SHOTS_VARIABLE = "WORKCREW_README_SHOTS"  # =1: chosen screenshots also go to the extension's README
KEEP_RUNS = 5  # screenshot folders kept; each run writes its own so concurrent runs never mix
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def require_chromium() -> None:
    """Skips the calling test module (at import) when Debian's Chromium is missing, saying how to install it."""
    if CHROMIUM.exists():
        return
    # A warning too, so the install command shows in the summary without -rs.
    why = f"Chromium is not installed at {CHROMIUM}: run `{INSTALL_HINT}` to enable the VS Code end-to-end test"
    warnings.warn(why, stacklevel=2)
    pytest.skip(why, allow_module_level=True)


def launch(code_server: CodeServer, vsix: Path, workspace: Path, state: Path,
           env: dict[str, str] | None = None) -> RunningCodeServer:
    running = RunningCodeServer(code_server, workspace, state, env)
    write_user_settings(running.user_data)
    install_extension(code_server, vsix, running.extensions, running.user_data)
    running.start()
    return running


class Steps:
    """Numbered screenshots, and a failure message that carries the code-server log."""

    def __init__(self, page: Page, server: RunningCodeServer, name: str) -> None:
        self.page = page
        self.server = server
        self.n = 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        for stale in sorted(p for p in SHOTS.iterdir() if p.is_dir())[:-KEEP_RUNS]:
            shutil.rmtree(stale, ignore_errors=True)
        self.folder = SHOTS / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{name}"
        self.folder.mkdir()
        self.readme = os.environ.get(README_SHOTS_VARIABLE) == "1"
        print(f"screenshots: {self.folder}", file=sys.stderr)

    def shot(self, name: str, readme: str | None = None) -> Path:
        """A numbered screenshot; with ``readme`` (a stable name) and WORKCREW_README_SHOTS=1 also copied to
        vscode-extension/media/screenshots/<readme>.png, which the extension's README embeds."""
        self.n += 1
        path = self.folder / f"{self.n:02d}-{name}.png"
        self.page.screenshot(path=str(path), animations="disabled")  # no half-faded quick picks or toasts
        if readme and self.readme:
            README_SHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, README_SHOTS / f"{readme}.png")
        return path

    def failed(self) -> None:
        """Screenshot and logs for the report (called from an except block, which re-raises)."""
        try:
            self.shot("failure")
            # toasts hide themselves after a while; the notification center keeps them
            run_command(self.page, "Notifications: Show Notifications")
            center = self.page.locator(".notifications-center")
            center.wait_for(timeout=5_000)
            print("notifications:\n" + center.inner_text(), file=sys.stderr)
            self.shot("failure-notifications")
        except Exception as exc:
            print(f"no failure screenshot or notifications: {exc}", file=sys.stderr)
        print("code-server output:\n" + self.server.output(), file=sys.stderr)
        for log in sorted(self.server.user_data.glob("logs/**/Workcrew.log")):
            print(f"{log}:\n{log.read_text()[-6000:]}", file=sys.stderr)


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Polls a condition on disk (the page has its own waits); fails with what was awaited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def open_workbench(page: Page, server: RunningCodeServer) -> None:
    """The workspace in the browser, once the extension's daemon answers (the status-bar item's idle icon)."""
    page.goto(f"{server.url}/?folder={server.workspace}")
    page.locator("div.monaco-workbench").wait_for(timeout=60_000)
    page.locator(".statusbar-item .codicon-checklist").wait_for(timeout=60_000)


def open_file(page: Page, name: str) -> Locator:
    """Quick Open (Ctrl+P) → the file's editor, focused; returns its text area."""
    page.keyboard.press("Control+P")
    page.locator(".quick-input-widget input").fill(name)
    page.locator(".quick-input-widget .monaco-list-row", has_text=name).first.wait_for(timeout=10_000)
    page.keyboard.press("Enter")
    page.locator(".tab.active", has_text=name).wait_for(timeout=15_000)
    editor = page.locator(".editor-group-container.active .monaco-editor .view-lines").first
    editor.wait_for(timeout=15_000)
    editor.click()  # keyboard focus into the editor
    return editor


def go_to_line(page: Page, line: int) -> None:
    """Ctrl+G, then wait until the editor's status shows the line (typing ahead of the widget loses keys)."""
    page.keyboard.press("Control+G")
    box = page.locator(".quick-input-widget input")
    box.wait_for(state="visible", timeout=10_000)
    box.fill(f":{line}")
    page.locator(".quick-input-widget .monaco-list-row", has_text=f"line {line}").first.wait_for(timeout=10_000)
    page.keyboard.press("Enter")
    box.wait_for(state="hidden", timeout=10_000)
    page.locator(".statusbar-item", has_text=f"Ln {line},").first.wait_for(timeout=10_000)


def run_command(page: Page, title: str) -> None:
    page.keyboard.press("F1")
    box = page.locator(".quick-input-widget input")
    box.wait_for(state="visible", timeout=10_000)
    box.fill(f">{title}")
    row = page.locator(".quick-input-widget .monaco-list-row", has_text=title).first
    row.wait_for(state="visible", timeout=10_000)
    row.click()


def quick_fix(page: Page, line: int, title: str) -> Locator:
    """The lightbulb menu (Ctrl+.) at the end of ``line`` of the active editor; returns the action row whose
    text contains ``title`` (not clicked, so a screenshot can show the menu)."""
    page.locator(".monaco-editor .squiggly-warning, .monaco-editor .squiggly-error").first.wait_for(timeout=30_000)
    go_to_line(page, line)
    page.keyboard.press("End")
    page.keyboard.press("Control+.")
    action = page.locator(".action-widget .monaco-list-row", has_text=title).first
    action.wait_for(timeout=30_000)
    return action


def pick(page: Page, row: Locator) -> None:
    """Picks a row of a menu (the lightbulb's, a context menu) by hover-to-focus + Enter: a click that lands
    right after the menu opened can be taken as the mouse-up of the gesture that opened it."""
    row.hover()
    page.keyboard.press("Enter")
    row.wait_for(state="hidden", timeout=10_000)


def notification(page: Page, text: str) -> Locator:
    """A notification toast once its fade-in is over (a screenshot mid-animation shows it half transparent)."""
    return page.locator(".notification-toast.notification-fade-in-done", has_text=text).first


def expand_notification(toast: Locator) -> None:
    """Shows a toast's whole message (a long one is cut to one line until it is expanded)."""
    toast.hover()
    expand = toast.locator(".codicon-notifications-expand")
    if expand.is_visible():
        expand.click()
        expand.wait_for(state="hidden", timeout=5_000)


def clear_notifications(page: Page) -> None:
    """Closes every notification, so the next wait for a toast cannot match an earlier one."""
    run_command(page, "Notifications: Clear All Notifications")
    page.locator(".notification-toast").first.wait_for(state="detached", timeout=10_000)


def problems(page: Page) -> Locator:
    """The Problems panel, shown (Ctrl+Shift+M toggles it, so only when it is not already visible)."""
    panel = page.locator(".markers-panel")
    if not panel.is_visible():
        page.keyboard.press("Control+Shift+M")
    panel.wait_for(timeout=15_000)
    return panel


def maximize_panel(page: Page, maximized: bool) -> None:
    """The bottom panel over the editors (all of the Problems list rendered: its rows are virtual) or back."""
    # the panel's title button is a toggle: the same icon, pressed while the panel is maximized
    checked = page.locator(".part.panel .action-label.codicon-panel-maximize[aria-pressed='true']")
    if checked.is_visible() != maximized:
        run_command(page, "View: Toggle Maximized Panel")
    checked.wait_for(state="visible" if maximized else "hidden", timeout=10_000)


def problems_badge(page: Page) -> Locator:
    """The count on the Problems tab: every diagnostic of the workspace, rendered or not."""
    return page.locator(".part.panel .composite-bar .action-item", has_text="Problems").locator(".badge-content")


def webview(page: Page) -> FrameLocator:
    """The newest webview's page (two nested iframes: VS Code's host frame, then the extension's page)."""
    return page.frame_locator("iframe.webview.ready").last.frame_locator("#active-frame")


def view_pane(page: Page, name: str) -> Locator:
    """A view of the Workcrew sidebar (Runs, Saved Workflows); the status-bar item opens the sidebar."""
    pane = page.locator(".pane", has=page.locator(".pane-header", has_text=name)).first
    if not pane.is_visible():
        page.locator(".statusbar-item", has=page.locator(".codicon-sync, .codicon-checklist")).first.click()
    pane.wait_for(timeout=15_000)
    return pane


def context_menu_item(page: Page, row: Locator, title: str) -> None:
    """Right-click ``row`` and pick ``title`` from its context menu."""
    row.click(button="right")
    item = page.locator(".monaco-menu .action-item", has_text=title).first
    item.wait_for(timeout=10_000)
    pick(page, item)

"""Fixtures every end-to-end test shares: code-server and the packaged .vsix (built once per session), and a
headless Chromium page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from .codeserver import CHROMIUM, CodeServer, build_vsix, ensure_code_server
from .ui import CHROMIUM_ARGS


@pytest.fixture(scope="session")
def code_server() -> CodeServer:
    return ensure_code_server()


@pytest.fixture(scope="session")
def vsix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_vsix(tmp_path_factory.mktemp("vsix"))


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()

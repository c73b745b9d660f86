"""Playwright (Python) in Debian's chromium against pytest-django's live server; axe-core
from node_modules checks every page that loads, and the test fails on any violation."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("LOTSE_CHROMIUM", "/usr/bin/chromium")
AXE_JS = Path(settings.NODE_MODULES) / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Playwright's sync API runs an event loop in this thread; Django's ORM in the same
# thread (fixtures, assertions) is safe here because nothing else runs concurrently.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _browser_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not _browser_available() or not AXE_JS.exists():
        if os.environ.get("LOTSE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required but {CHROMIUM} or {AXE_JS} is missing")
        pytest.skip(
            "Debian chromium or node_modules/axe-core not installed (make test installs them)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        yield browser
        browser.close()


class AxeViolations(AssertionError):
    pass


class CheckedPage:
    """A page whose every loaded document is checked by axe-core before the test ends."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.loaded: list[str] = []
        self.checked: list[str] = []
        page.on("load", lambda p: self.loaded.append(p.url))

    def goto(self, path: str) -> None:
        self.page.goto(self.base_url + path)
        self.axe()

    def axe(self) -> None:
        self.page.wait_for_load_state("load")
        url = self.page.url
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(content=AXE_JS.read_text())
        result = self.page.evaluate(
            "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
            AXE_TAGS,
        )
        violations = result["violations"]
        if violations:
            lines = [f"axe found {len(violations)} violation(s) on {url}:"]
            for v in violations:
                targets = [n["target"] for n in v["nodes"]][:5]
                lines.append(f"- {v['id']} ({v['impact']}): {v['help']} → {json.dumps(targets)}")
            raise AxeViolations("\n".join(lines))
        self.checked.append(url)

    def assert_all_checked(self) -> None:
        unchecked = [u for u in self.loaded if u not in self.checked]
        assert not unchecked, f"pages loaded but not checked by axe: {unchecked}"


@pytest.fixture
def page(browser, live_server) -> Iterator[CheckedPage]:
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    checked = CheckedPage(context.new_page(), live_server.url)
    yield checked
    context.close()
    checked.assert_all_checked()


@pytest.fixture(autouse=True)
def seeded_code_lists(transactional_db) -> None:
    """Transactional tests flush every table after each test, including the rows the
    data migrations seed (need types, the default interview guide, legal bases); put
    them back so each browser test starts from a migrated database."""
    import importlib

    from django.apps import apps

    for module in (
        "lotse.core.migrations.0002_default_data",
        "lotse.casework.migrations.0003_default_guide",
        "lotse.privacy.migrations.0002_default_legal_bases",
        "lotse.people.migrations.0002_target_groups",
    ):
        importlib.import_module(module).forwards(apps, None)

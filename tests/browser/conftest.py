"""Browser tests: Debian's Chromium driven by Playwright, pages checked with axe-core."""

import json
import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the
# tests make around it are ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

AXE_SOURCE = (
    Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
).read_text()
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


class AxeChecker:
    """Runs axe-core on the current page; collects every page checked."""

    def __init__(self, page):
        self.page = page
        self.checked: list[str] = []

    def __call__(self) -> None:
        result = self._run()
        violations = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["html"][:200] for n in v["nodes"][:3]],
            }
            for v in result["violations"]
        ]
        self.checked.append(self.page.url)
        assert violations == [], f"axe violations on {self.page.url}:\n" + json.dumps(
            violations, indent=2
        )

    def _run(self) -> dict:
        """Runs axe once the page has loaded.

        A click that navigates returns before the next page has loaded, so a check
        straight after one can meet a document that is being replaced; that check
        waits for the new page to load and runs again on it.
        """
        from playwright.sync_api import Error

        attempt = 1
        while True:
            self.page.wait_for_load_state("load")
            try:
                self.page.evaluate(AXE_SOURCE)
                return self.page.evaluate(
                    "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
                    "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', "
                    "'best-practice']}})"
                )
            except Error as error:
                if attempt == NAVIGATION_ATTEMPTS or not _is_navigation(error):
                    raise
                attempt += 1


NAVIGATION_ATTEMPTS = 5
NAVIGATION_ERRORS = (
    "Execution context was destroyed",
    "reading 'documentElement'",
    "axe is not defined",
    "Cannot find context",
)


def _is_navigation(error: Exception) -> bool:
    return any(message in str(error) for message in NAVIGATION_ERRORS)


@pytest.fixture
def axe(page):
    return AxeChecker(page)

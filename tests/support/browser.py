"""Debian's Chromium driven by Playwright, for the page's tests and its benchmark.

Playwright's sync API runs in a worker thread (``trio.to_thread``) while the server runs
in the test's trio loop: each test hands one synchronous browser scenario to
:func:`in_browser`.  Nothing is downloaded: the system's /usr/bin/chromium is launched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import trio
from playwright.sync_api import Browser, Page, sync_playwright

from livesim.config import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTIFACTS = PROJECT_ROOT / ".livesim" / "artifacts"
VIEWPORT = {"width": 1400, "height": 1000}
T = TypeVar("T")


@contextmanager
def chromium() -> Iterator[Browser]:
    """Chromium, from a worker thread (Playwright's sync API runs its own asyncio loop)."""
    # trio-asyncio's policy would hand Playwright a trio-asyncio loop; in this (non-trio)
    # thread a plain asyncio policy is what Playwright needs.  The setting is per thread.
    asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Browser, errors: list[str]) -> Page:
    """A page that records console errors and uncaught exceptions into ``errors``."""
    page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
    page.set_default_timeout(20_000)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    return page


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot under .livesim/artifacts/ and print where (look at it)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    print(f"screenshot: {path}")
    return path


async def in_browser(scenario: Callable[..., T], *args: Any) -> T:
    """Run a synchronous Playwright scenario in a worker thread (abandoned on cancel)."""
    return await trio.to_thread.run_sync(scenario, *args, abandon_on_cancel=True)

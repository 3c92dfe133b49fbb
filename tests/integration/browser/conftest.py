"""Browser tests: Debian's Chromium driven by Playwright against a real server and database
(see :mod:`tests.support.browser`).

Without /usr/bin/chromium (or without a built bundle: ``just web``) the tests skip, except
in CI (``CI=true``), where they must run and therefore fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from livesim.app.web import WEB_DIST
from tests.support.browser import CHROMIUM


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if not (WEB_DIST / "index.html").exists():
        return f"the page is not built ({WEB_DIST}): run `just web`"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing()
    if reason is None or os.environ.get("CI") == "true":
        return  # in CI a missing browser or bundle fails the tests instead
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if "tests/integration/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)



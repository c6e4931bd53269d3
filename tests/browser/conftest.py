"""Browser tests: the service under uvicorn on a free loopback port, driven by Playwright with
Debian's Chromium (/usr/bin/chromium; never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from jingce.web import create_service
from tests.browser.server import ServiceThread
from tests.browser.world import PASSWORD, build_world

CHROMIUM = "/usr/bin/chromium"
LONG_POINTS = 100_000


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Debian's Chromium through Playwright")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    reason = None
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright package is not installed (dev extras)"
    for item in items:
        if Path(item.fspath).parent == here:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))  # one world and one Chromium under -n
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    from jingce.engine.local import LocalEngine
    from jingce.services.region import analyse_region

    w = build_world(tmp_path_factory.mktemp("browser"), long_points=LONG_POINTS)
    analyse_region(w.store, w.region.admin, LocalEngine())  # daily summaries: the region view takes periods
    yield w
    w.store.close()


@pytest.fixture(scope="session")
def service(world):
    with ServiceThread(create_service(world.settings, store=world.store)) as s:
        yield s


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path):
    """Save a full-page screenshot under the test's tmp_path (and, when JINGCE_SCREENSHOTS is set,
    also into that folder: how docs/screenshots was made)."""
    out = tmp_path / "screenshots"
    out.mkdir()
    extra = os.environ.get("JINGCE_SCREENSHOTS")

    def take(page, name: str, *, full_page: bool = True) -> Path:
        path = out / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        assert path.stat().st_size > 5_000
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(extra) / path.name)
        return path

    return take


@pytest.fixture
def login(browser, service):
    """``login(user, lang="en")`` -> a logged-in page (its own browser context)."""
    contexts = []

    def do(user: str, lang: str = "en"):
        ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
        contexts.append(ctx)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.js_errors = errors
        page.goto(f"{service.url}/login?lang={lang}")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("#login-form button[type=submit]")
        assert "/login" not in page.url, page.content()[:500]
        return page

    yield do
    for ctx in contexts:
        ctx.close()

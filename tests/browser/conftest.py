"""Real-browser tests: Playwright's sync API driving the system Chromium against
pytest-django's `live_server`.

No browser is ever downloaded (`playwright install` is never needed): the tests
use the Chromium the operating system provides. Where there is none, they skip
on a developer's machine and fail loudly in CI, so a green CI run always means
the browser tests really ran.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from tests import make
from throughgate.accounts.models import User

HERE = Path(__file__).resolve().parent
AXE_JS = HERE / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000  # a local server answers in milliseconds; fail fast, not after 30 s


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/browser/ carries the `browser` marker, so
    `-m "not browser"` leaves them all out and `-m browser` runs only them."""
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.browser)


def find_chromium() -> str | None:
    """THROUGHGATE_CHROMIUM, else Debian's /usr/bin/chromium, else chromium on PATH."""
    configured = os.environ.get("THROUGHGATE_CHROMIUM", "").strip()
    if configured:
        if not Path(configured).is_file():
            # Someone asked for a particular browser: a typo must not turn into a skip.
            pytest.fail(
                f"THROUGHGATE_CHROMIUM={configured!r} is not a file; point it at a Chromium "
                "executable or unset it.",
                pytrace=False,
            )
        return configured
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def chromium_or_skip() -> str:
    """The Chromium to drive; without one, skip locally but fail in CI (env CI set)."""
    path = find_chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(
                "Chromium is required in CI for the browser tests (tests/browser/) but none "
                "was found: install it (apt-get install chromium) or set THROUGHGATE_CHROMIUM.",
                pytrace=False,
            )
        pytest.skip(
            "No Chromium found (THROUGHGATE_CHROMIUM unset, no /usr/bin/chromium, none on "
            "PATH); install it with `apt-get install chromium` or set THROUGHGATE_CHROMIUM."
        )
    return path


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    return chromium_or_skip()


@pytest.fixture(scope="package")
def browser(chromium_executable: str) -> Iterator[Browser]:
    """One Chromium for all of tests/browser/; each test gets its own context.

    Package scope, not session: Playwright is stopped as soon as the last browser
    test is done, so the rest of the suite runs exactly as it would without it.
    """
    # Playwright's sync API drives an asyncio event loop underneath (in a greenlet):
    # from sync_playwright().start() until .stop(), asyncio.get_running_loop()
    # succeeds in the main thread. Django then takes every ORM call from fixtures
    # and tests for a call from async code and raises SynchronousOnlyOperation.
    # Nothing here is really async (each query runs synchronously, in this thread
    # or the live-server thread), so the guard is switched off, but only while
    # the browser is up: left set, it would leak into subprocesses that later
    # tests start (`django check --deploy` rightly fails on it, async.E001).
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        playwright = sync_playwright().start()
        try:
            chromium = playwright.chromium.launch(
                executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield chromium
            finally:
                chromium.close()
        finally:
            playwright.stop()


def _new_page(browser: Browser, **context_options: Any) -> Iterator[Page]:
    # The app's strict Content-Security-Policy stays ON (no bypass_csp): the tests
    # then prove the pages and app.js work under the policy production sends.
    # axe is injected with page.evaluate instead (see axe_check), which CSP allows.
    context: BrowserContext = browser.new_context(
        locale="en-GB", timezone_id="Europe/London", **context_options
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(f"CSP violation on {page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"JavaScript error on {page.url}: {error}"))
    try:
        yield page
    finally:
        context.close()
    # Checked after the test: a blocked script or style is a real bug even when
    # the page still looks right (the policy silently removes what it blocks).
    assert not problems, "\n".join(problems)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A laptop-sized page in a fresh browser context (coordinators, managers, analysts)."""
    yield from _new_page(browser, viewport=LAPTOP)


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    """A 390×844 touch phone in a fresh context: how mentors use Throughgate."""
    yield from _new_page(browser, viewport=PHONE, is_mobile=True, has_touch=True)


def login_as(page: Page, live_server: Any, username: str, password: str = make.PASSWORD) -> None:
    """Log in through the real log-in form, as a person would, and wait to leave it."""
    app = make.authenticator_app(User.objects.get(username=username))  # set up before
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(lambda url: "/login/" not in url)
    if "/two-factor/" in page.url:  # the code from the authenticator app, as a person types it
        page.get_by_label("Code").fill(make.current_code(app))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(lambda url: "/two-factor/" not in url)


def assert_no_horizontal_scroll(page: Page, width: int = PHONE["width"]) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, (
        f"{page.url} scrolls sideways on a {width}px-wide screen (scrollWidth {scroll_width})"
    )


def axe_check(page: Page) -> None:
    """Run axe-core's WCAG 2.0/2.1/2.2 A and AA rules on the current page; no violations allowed.

    Injection: page.add_script_tag(path=...) inserts an *inline* <script>, which the
    app's CSP (script-src 'self') rightly blocks. Rather than weaken the policy with
    bypass_csp for every test, the script source is evaluated through the DevTools
    protocol (page.evaluate), which CSP does not govern. It is wrapped in a function
    because Playwright treats any string containing "=>" as a function to call.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate("function () {\n" + AXE_JS.read_text(encoding="utf-8") + "\n}")
    results = page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return results.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map((n) => ({target: n.target, summary: n.failureSummary})),
            }));
        }""",
        AXE_TAGS,
    )
    lines = [f"axe found {len(results)} accessibility violation(s) on {page.url}:"]
    for v in results:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            lines.append(f"    {json.dumps(node['target'])}: {node['summary']}")
    assert not results, "\n".join(lines)

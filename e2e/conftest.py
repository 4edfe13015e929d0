"""End-to-end tests: a real Chromium drives homelog served by a live server.

They use Debian's ``chromium`` package (``apt-get install chromium``) through Playwright for Python; set
HOMELOG_CHROMIUM to use another Chromium build. Without a browser they are skipped with a message saying
how to enable them, unless HOMELOG_REQUIRE_BROWSER is set (as CI does), where a missing browser fails.
Screenshots of every page, at a phone and a desktop size, go to test-artifacts/screenshots/.
"""

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from accounts.tests.factories import DEFAULT_PASSWORD

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What a production Content-Security-Policy allows: homelog's own scripts, styles and images only. Every
# page is served with it here, so an inline script or style that such a policy would block fails a test.
STRICT_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'"
)
HOW_TO_ENABLE = (
    "Browser tests need Chromium: install Debian's package (apt-get install chromium) or point "
    "HOMELOG_CHROMIUM at a Chromium binary."
)


def find_chromium():
    if "HOMELOG_CHROMIUM" in os.environ:
        candidates = [os.environ["HOMELOG_CHROMIUM"]]
    else:
        candidates = ["/usr/bin/chromium", shutil.which("chromium")]
    return next((path for path in candidates if path and os.access(path, os.X_OK)), None)


def _unavailable(reason):
    if os.environ.get("HOMELOG_REQUIRE_BROWSER"):
        pytest.fail(f"{reason} (HOMELOG_REQUIRE_BROWSER is set).", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    chromium = find_chromium()
    if chromium is None:
        _unavailable(HOW_TO_ENABLE)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Browser tests need Playwright for Python: pip install -e '.[dev]'.")
    # Playwright's synchronous API runs an event loop in this thread, and Django refuses database calls
    # from a thread with a running loop; the test's own calls are synchronous, so that guard is moot here.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            yield launched
            launched.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url, locale="en-GB")
    problems = []
    new_page = context.new_page()

    def on_console(message):
        # A page answered with 404 on purpose is logged as such; failed sub-resources are caught below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    def on_response(response):
        if response.request.resource_type != "document" and response.status >= 400:
            problems.append(f"{response.status} for {response.url}")

    def on_document(response):
        # Pages are served with homelog's Content-Security-Policy (own scripts and styles only); the browser
        # reports anything it blocks as a console error, which fails the test.
        if response.request.resource_type == "document":
            policy = response.headers.get("content-security-policy", "")
            if "script-src 'self'" not in policy:
                problems.append(f"{response.url} came without homelog's Content-Security-Policy: {policy!r}")

    new_page.on("console", on_console)
    new_page.on("response", on_response)
    new_page.on("response", on_document)
    new_page.on("pageerror", lambda error: problems.append(str(error)))
    new_page.set_default_timeout(10_000)
    yield new_page
    context.close()
    assert problems == [], f"the browser reported errors: {problems}"


def sign_in(page, user, password=DEFAULT_PASSWORD):
    page.goto("/account/sign-in/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    wait_for_path(page, "/")


def wait_for_path(page, path):
    """Wait until the browser shows `path` (a glob such as "/sources/*/" would also match a query string)."""
    page.wait_for_url(lambda url: urlsplit(url).path == path)


def snap(page, name):
    """Save full-page screenshots of the current page at phone and desktop width, and check that neither
    needs sideways scrolling."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than a {label} screen"
        page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)

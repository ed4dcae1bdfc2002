"""Browser fixtures: Debian's Chromium driven by Playwright (sync API) against pytest-django's live_server.

Playwright's sync API runs an event loop in the test thread, so Django refuses ORM calls there unless told
that this is fine; in tests it is (the ORM and the browser never run concurrently in this thread).
"""
import io
import os

import pytest
import redis
from django.core.management import call_command

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Every wait in these tests is bounded by this (milliseconds).
TIMEOUT_MS = 10_000
# The pages and jobs of the e2e tests schedule RQ work (deadlines); keep it in a Redis database of its own,
# emptied after each test, instead of the Redis of REDIS_URL (db 0 belongs to `make run`, db 14 to tests/perf).
E2E_REDIS_URL = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379/13")
DEMO_PASSWORD = "demo12345"


@pytest.fixture(scope="module", autouse=True)
def orm_beside_the_browser():
    """For the browser modules only, until their event loop is gone; never in a deployment (check --deploy refuses it)."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def playwright_driver(orm_beside_the_browser):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs it (apt-get install chromium; never `playwright install`)")
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def e2e_redis(settings):
    """Point RQ and a Redis cache at the e2e Redis database (the live server thread reads the same settings)."""
    settings.RQ_QUEUES = {
        name: {**config, "URL": E2E_REDIS_URL} for name, config in settings.RQ_QUEUES.items()
    }
    settings.CACHES = {
        alias: {**config, "LOCATION": E2E_REDIS_URL} if str(config.get("LOCATION", "")).startswith("redis") else config
        for alias, config in settings.CACHES.items()
    }
    connection = redis.Redis.from_url(E2E_REDIS_URL)
    yield connection
    connection.flushdb()
    connection.close()


class BrowserSession:
    """One merchant's browser tab (its own cookies) on the live server, with what went wrong on the way."""

    def __init__(self, context, base_url: str):
        self.context = context
        self.base_url = base_url
        self.page = context.new_page()
        self.failed_requests: list[str] = []  # static files that answered 4xx/5xx
        self.js_errors: list[str] = []
        self.page.on("pageerror", lambda error: self.js_errors.append(str(error)))
        self.page.on("response", self._on_response)

    def _on_response(self, response):
        if response.status >= 400 and "/static/" in response.url:
            self.failed_requests.append(f"{response.status} {response.url}")

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str):
        return self.page.goto(self.url(path), wait_until="load")

    def sign_in(self, username: str, password: str = DEMO_PASSWORD) -> None:
        """Sign in through the /login/ form as a person would, and wait for the dashboard."""
        page = self.page
        self.goto("/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password)
        with page.expect_navigation(wait_until="load"):
            page.get_by_role("button", name="登录").click()
        page.wait_for_url(self.url("/"))


@pytest.fixture
def browser_session(browser, live_server, e2e_redis):
    """A fresh browser context (no cookies), in Chinese as a merchant in China would have it."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    session = BrowserSession(context, live_server.url)
    yield session
    context.close()


@pytest.fixture
def page(browser_session):
    return browser_session.page


@pytest.fixture
def demo(transactional_db, e2e_redis, settings):
    """The demo data of `make run`: two shops, their staff (password demo12345), and orders in every state.

    Passwords are hashed with a fast hasher here (seeding and signing in, in both threads): the browser cannot tell.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The flush after an earlier transactional test removed what migrations wrote; seed_demo makes the
    # `arbitrators` group again (aftersale.roles) before it gives it to the arbiter.
    call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())

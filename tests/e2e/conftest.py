"""Browser fixtures: Debian's Chromium driven by Playwright (sync API) against pytest-django's live_server.

Playwright's sync API runs an event loop in the test thread, so Django refuses ORM calls there unless told
that this is fine; in tests it is (the ORM and the browser never run concurrently in this thread).
"""
import io
import os
import time

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
# Every wait in these tests is bounded by this (Playwright counts in thousandths of a second).
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


# seed_demo takes most of a minute; the browser tests get its outcome back from a copy instead (DemoSnapshot below). A copy
# older than this is made afresh: the demo's live deadlines keep at least 10 minutes in hand when it is seeded
# (shop_admin/shell/demo/story.py), so every test sees a month that ends "now" with nothing overdue.
DEMO_SNAPSHOT_MAX_AGE_S = 5 * 60
DEMO_SNAPSHOT_SCHEMA = "e2e_demo_snapshot"


class DemoSnapshot:
    """What seed_demo left in the database (every table, every sequence) and in the e2e Redis, copied once and put
    back before each browser test that asks for the demo: the test sees exactly what a fresh seed_demo would have
    left (the same rows, ids, hashes and scheduled jobs), in a fraction of a second.

    The rows are kept in a schema of their own in the test database, off the search path, so the flush that ends
    every transactional test leaves them alone.
    """

    def __init__(self):
        self.taken_at: float | None = None
        self.columns: dict[str, str] = {}  # table -> its quoted column list (generated columns left out)
        self.sequences: list[tuple[str, int | None]] = []
        self.redis: list[tuple[bytes, int, bytes]] = []

    def fresh(self) -> bool:
        return self.taken_at is not None and time.monotonic() - self.taken_at < DEMO_SNAPSHOT_MAX_AGE_S

    def take(self, redis_connection) -> None:
        from django.db import connection

        qn = connection.ops.quote_name
        tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {DEMO_SNAPSHOT_SCHEMA} CASCADE")
            cursor.execute(f"CREATE SCHEMA {DEMO_SNAPSHOT_SCHEMA}")
            columns = {}
            for table in tables:
                cursor.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
                    " AND table_name = %s AND is_generated = 'NEVER' ORDER BY ordinal_position",
                    [table],
                )
                columns[table] = ", ".join(qn(name) for (name,) in cursor.fetchall())
                cursor.execute(f"CREATE TABLE {DEMO_SNAPSHOT_SCHEMA}.{qn(table)} AS SELECT {columns[table]} FROM {qn(table)}")
            cursor.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema()")
            self.sequences = cursor.fetchall()
        self.columns = columns
        self.redis = [(key, redis_connection.pttl(key), redis_connection.dump(key)) for key in redis_connection.scan_iter()]
        self.taken_at = time.monotonic()

    def restore(self, redis_connection) -> None:
        from django.contrib.contenttypes.models import ContentType
        from django.db import connection, transaction

        qn = connection.ops.quote_name
        with transaction.atomic(), connection.cursor() as cursor:
            # What the flush after the last test left (content types, permissions made again by post_migrate) goes
            # too: the copy has them, with the ids the demo's rows point to.
            cursor.execute("TRUNCATE " + ", ".join(qn(table) for table in self.columns))
            for table, columns in self.columns.items():
                cursor.execute(f"INSERT INTO {qn(table)} ({columns}) SELECT {columns} FROM {DEMO_SNAPSHOT_SCHEMA}.{qn(table)}")
            for name, last_value in self.sequences:
                cursor.execute("SELECT setval(%s, %s, %s)", [qn(name), last_value or 1, last_value is not None])
        ContentType.objects.clear_cache()  # ids cached by the flush's post_migrate are not the copy's
        redis_connection.flushdb()
        for key, ttl_ms, value in self.redis:
            if ttl_ms != -2:  # -2: gone since the copy was made
                redis_connection.restore(key, max(ttl_ms, 0), value, replace=True)

    def drop(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {DEMO_SNAPSHOT_SCHEMA} CASCADE")


@pytest.fixture(scope="session")
def demo_snapshot(django_db_setup, django_db_blocker):
    snapshot = DemoSnapshot()
    yield snapshot
    if snapshot.taken_at is not None:
        with django_db_blocker.unblock():
            snapshot.drop()


@pytest.fixture
def demo(transactional_db, e2e_redis, settings, demo_snapshot):
    """The demo data of `make run`: two shops, their staff (password demo12345), and orders in every state.

    Passwords are hashed with a fast hasher here (seeding and signing in, in both threads): the browser cannot tell.
    The first test seeds and the snapshot keeps the outcome; the next ones get it back (see DemoSnapshot).
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if demo_snapshot.fresh():
        demo_snapshot.restore(e2e_redis)
        return
    # The flush after an earlier transactional test removed what migrations wrote; seed_demo makes the
    # `arbitrators` group again (aftersale.roles) before it gives it to the arbiter.
    call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
    demo_snapshot.take(e2e_redis)

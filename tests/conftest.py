"""Fixtures shared by every test: an API client per caller, a demo shop with stock, Redis for the deadline tests."""
import json

import django_rq
import pytest
from django.conf import settings
from django.test import Client

from tests import factories


class ApiClient:
    """Calls /api/v1/ as one caller (buyer or merchant token, or none) and returns (status, json)."""

    def __init__(self, token: str | None = None):
        self.client = Client()
        self.token = token

    def _headers(self, extra: dict | None) -> dict:
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def call(self, method: str, path: str, body=None, *, headers: dict | None = None, raw: bytes | None = None):
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client, method.lower())(
            f"/api/v1{path}", data=data, content_type="application/json", headers=self._headers(headers)
        )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        return response.status_code, payload

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Cached counts live in Redis: each test starts without another test's."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the console's default language (zh-hans): a request or job of an earlier test in English
    leaves English active in the thread, and a message checked in Chinese would then depend on test order."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def api_rate_limits_off(settings):
    """Tests call faster than any client may; tests/shop_admin/test_rate_limits.py turns the limits on where it checks them."""
    settings.API_RATE_LIMITS_ENABLED = False


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users made by tests get a fast hash (PBKDF2 costs a third of a second of CPU per user, hundreds of times a run).

    Hashes made the production way still check: its hashers follow. The deploy check runs the real settings.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads and job results of a test go to its own folder, not the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def shop(db):
    return factories.make_shop("测试旗舰店")


@pytest.fixture
def sku(shop):
    return factories.make_sku(shop, price="59.90", stock=100, name="蜂蜜柚子茶")


@pytest.fixture
def buyer(db):
    return factories.make_buyer("buyer_a")


@pytest.fixture
def buyer_api(buyer):
    return ApiClient(buyer.api_token)


@pytest.fixture
def owner(shop):
    return factories.make_member(shop, username="owner")


@pytest.fixture
def merchant_api(owner):
    return ApiClient(owner.api_token.key)


@pytest.fixture
def redis_conn():
    """The real Redis of REDIS_URL, emptied before and after (the tests own it while they run)."""
    connection = django_rq.get_connection("deadlines")
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def place_order(buyer_api, shop):
    """Submit an order through the API and return its JSON (asserting it was accepted)."""

    def place(*items, **extra):
        status, body = buyer_api.post("/orders", factories.order_payload(shop, *items, **extra))
        assert status == 201, body
        return body

    return place


@pytest.fixture
def pay(buyer_api, api):
    """Create a payment and deliver its signed success callback; returns the payment JSON."""

    def do_pay(order_no: str, *, channel: str = "douyin_pay", txn: str | None = None):
        status, payment = buyer_api.post(f"/orders/{order_no}/payments", {"channel": channel})
        assert status == 201, payment
        body = factories.callback_body(payment, txn=txn or f"TXN-{payment['payment_id']}")
        status, result = api.post(
            "/callbacks/payment", raw=body, headers=factories.signed_headers(body, settings.PAYMENT_CALLBACK_SECRET)
        )
        assert status == 200, result
        return payment

    return do_pay


@pytest.fixture
def api():
    """An unauthenticated caller (payment channel, carrier, or a stranger)."""
    return ApiClient()


@pytest.fixture
def run_jobs(redis_conn, django_capture_on_commit_callbacks):
    """Send console requests whose jobs are enqueued on commit, then let a real RQ worker (in-process) run them.

    Usage: `with run_jobs(): client.post(...)` — the jobs run when the block ends.
    """
    from contextlib import contextmanager

    from rq import SimpleWorker

    @contextmanager
    def runner():
        with django_capture_on_commit_callbacks(execute=True):
            yield
        django_rq.get_worker("default", worker_class=SimpleWorker).work(burst=True)

    return runner


@pytest.fixture
def console(owner):
    """The shop owner signed in to the console."""
    client = Client()
    client.force_login(owner)
    return client

"""Rate limits per caller, counted in the shared Redis: 429 with Retry-After past the limit, callbacks never limited."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from orders.models import Order
from shop_admin.shell.api import api as ninja_api
from tests import factories
from tests.conftest import ApiClient

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LIMITS = dict(django_settings.API_RATE_LIMITS)  # as the project ships them, before any test changes them


@pytest.fixture
def limits(settings, fresh_cache):
    """The limits on, as shipped (the suite turns them off); a test may change a number through the returned dict."""
    settings.API_RATE_LIMITS_ENABLED = True
    settings.API_RATE_LIMITS = dict(DEFAULT_LIMITS)
    return settings.API_RATE_LIMITS


def _get(client: ApiClient, path: str):
    response = client.client.get(f"/api/v1{path}", headers=client._headers(None))
    return response.status_code, response.json(), response.headers


def assert_rate_limited(status, body, headers):
    assert status == 429, body
    retry_after = int(headers["Retry-After"])
    assert retry_after >= 1
    assert body["error"]["code"] == "rate_limited"
    assert body["error"]["details"] == {"retry_after": retry_after}
    assert body["error"]["message"]


def test_the_shipped_numbers_follow_the_risk_rules():
    assert DEFAULT_LIMITS["buyer_order_read"] == "5/s"
    assert DEFAULT_LIMITS["order_submit"] and DEFAULT_LIMITS["merchant_list"]


def test_a_buyer_reads_an_order_five_times_then_waits_for_the_window(limits, sku, buyer_api, place_order):
    # Five in three seconds rather than the shipped one: six order pages take more than a second on a busy CI machine.
    limits["buyer_order_read"] = "5/3s"
    order_no = place_order((sku, 1))["order_no"]

    answers = [_get(buyer_api, f"/orders/{order_no}") for _ in range(6)]

    assert [status for status, _, _ in answers[:5]] == [200] * 5
    assert_rate_limited(*answers[5])
    # when: the window passes
    time.sleep(int(answers[5][2]["Retry-After"]) + 0.05)
    # then: the buyer is served again
    assert _get(buyer_api, f"/orders/{order_no}")[0] == 200


def test_the_limit_is_per_buyer_not_for_everyone(limits, shop, sku, buyer_api, place_order):
    order_no = place_order((sku, 1))["order_no"]
    other = factories.make_buyer("buyer_b")
    other_api = ApiClient(other.api_token)
    other_order = other_api.post("/orders", factories.order_payload(shop, (sku, 1)))[1]["order_no"]

    for _ in range(5):
        _get(buyer_api, f"/orders/{order_no}")

    assert _get(buyer_api, f"/orders/{order_no}")[0] == 429
    assert _get(other_api, f"/orders/{other_order}")[0] == 200


def test_order_submission_is_limited_per_buyer_and_a_refused_one_writes_nothing(limits, shop, sku, buyer_api):
    limits["order_submit"] = "2/m"
    other_api = ApiClient(factories.make_buyer("buyer_b").api_token)
    payload = factories.order_payload(shop, (sku, 1))

    answers = [buyer_api.post("/orders", payload) for _ in range(3)]

    assert [status for status, _ in answers] == [201, 201, 429]
    assert answers[2][1]["error"]["code"] == "rate_limited"
    assert 50 <= answers[2][1]["error"]["details"]["retry_after"] <= 60
    assert Order.objects.count() == 2
    assert other_api.post("/orders", payload)[0] == 201


def test_merchant_list_endpoints_are_limited_per_merchant_user(limits, shop, merchant_api):
    limits["merchant_list"] = "3/m"
    colleague_api = ApiClient(factories.make_member(shop, username="colleague").api_token.key)

    answers = [_get(merchant_api, "/merchant/orders") for _ in range(4)]

    assert [status for status, _, _ in answers[:3]] == [200] * 3
    assert_rate_limited(*answers[3])
    assert _get(colleague_api, "/merchant/orders")[0] == 200


def test_callbacks_are_never_limited(limits, sku, buyer_api, api, place_order):
    for scope in limits:
        limits[scope] = "1/h"
    order_no = place_order((sku, 1))["order_no"]
    status, payment = buyer_api.post(f"/orders/{order_no}/payments", {"channel": "douyin_pay"})
    body = factories.callback_body(payment, txn="DY-REPLAYED")

    for _ in range(5):
        status, answer = api.post(
            "/callbacks/payment", raw=body, headers=factories.signed_headers(body, django_settings.PAYMENT_CALLBACK_SECRET)
        )
        assert status == 200, answer


def _operations():
    """(method, full path, scopes of its rate limits) of every endpoint mounted on the API, other apps' included."""
    for prefix, router in ninja_api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    yield method, prefix.rstrip("/") + path, {getattr(t, "scope", type(t).__name__) for t in operation.throttle_objects}


def test_each_endpoint_of_a_kind_has_its_limit_and_callbacks_none():
    """Holds the endpoints other apps add to the same rules: a merchant list, a buyer's order read, a callback."""
    operations = list(_operations())
    assert ("POST", "/orders", {"order_submit"}) in operations
    for method, path, scopes in operations:
        if path.startswith("/callbacks/"):
            assert not scopes, f"{method} {path}: callbacks are signed and must never be dropped"
        elif method == "GET" and path.startswith("/merchant/") and "{" not in path:
            assert scopes == {"merchant_list"}, f"{method} {path} lists for merchants: add **rate_limited('merchant_list')"
        elif method == "GET" and path.startswith("/orders/"):
            assert scopes == {"buyer_order_read"}, f"{method} {path} reads a buyer's order: add **rate_limited('buyer_order_read')"


def test_the_429_is_documented_with_retry_after_and_its_body_matches(limits, api, merchant_api):
    import jsonschema_rs

    schema = api.client.get("/api/v1/openapi.json").json()
    for method, path in [("post", "/api/v1/orders"), ("get", "/api/v1/orders/{order_no}"), ("get", "/api/v1/merchant/orders")]:
        assert "Retry-After" in schema["paths"][path][method]["responses"]["429"]["headers"], path
    limits["merchant_list"] = "1/m"
    _get(merchant_api, "/merchant/orders")

    status, body, headers = _get(merchant_api, "/merchant/orders")

    assert status == 429
    documented = schema["paths"]["/api/v1/merchant/orders"]["get"]["responses"]["429"]["content"]["application/json"]["schema"]
    jsonschema_rs.validator_for({**documented, "components": schema["components"]}).validate(body)


def test_without_redis_the_limits_let_requests_through(limits, settings, sku, buyer_api, place_order):
    order_no = place_order((sku, 1))["order_no"]
    limits["buyer_order_read"] = "1/h"
    settings.CACHES = {
        "default": {
            "BACKEND": "shop_admin.kernel.cache.ForgivingRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    assert [_get(buyer_api, f"/orders/{order_no}")[0] for _ in range(3)] == [200] * 3


# Another process (another gunicorn worker, another host) reads the buyer's order twice through the API.
OTHER_PROCESS = """
import json, sys
import django
django.setup()
from django.conf import settings
settings.API_RATE_LIMITS["buyer_order_read"] = "3/m"
from django.test import Client
path, token = sys.argv[1], sys.argv[2]
print(json.dumps([Client().get(path, headers={"Authorization": "Bearer " + token}).status_code for _ in range(2)]))
"""


@pytest.mark.django_db(transaction=True)
def test_the_count_is_shared_by_every_process_through_redis(limits, shop):
    limits["buyer_order_read"] = "3/m"
    sku = factories.make_sku(shop, stock=10)
    buyer = factories.make_buyer("buyer_shared")
    buyer_api = ApiClient(buyer.api_token)
    order_no = buyer_api.post("/orders", factories.order_payload(shop, (sku, 1)))[1]["order_no"]
    db = django_settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shop_admin.settings",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": django_settings.REDIS_URL,
        "API_RATE_LIMITS_ENABLED": "1",
    }

    # given: one read here, two in the other process
    assert _get(buyer_api, f"/orders/{order_no}")[0] == 200
    other = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, f"/api/v1/orders/{order_no}", buyer.api_token],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert other.returncode == 0, other.stderr
    assert json.loads(other.stdout.strip().splitlines()[-1]) == [200, 200]

    # then: the fourth read in a minute is refused here, whichever process served the first three
    assert_rate_limited(*_get(buyer_api, f"/orders/{order_no}"))


def test_a_mistyped_limit_is_refused_at_startup_not_at_the_first_order(settings):
    from shop_admin.kernel.throttling import rate_limits_check

    settings.API_RATE_LIMITS = {**DEFAULT_LIMITS, "order_submit": "30 per minute"}

    assert [problem.id for problem in rate_limits_check()] == ["shop_admin.E101"]
    settings.API_RATE_LIMITS = {**DEFAULT_LIMITS, "order_submit": "100/10s", "merchant_list": ""}
    assert rate_limits_check() == []

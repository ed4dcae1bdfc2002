"""Schemathesis fuzzes every endpoint of the project's own OpenAPI schema, in-process: never a 500, every answer as documented.

The schema is read from /api/v1/openapi.json through the Django WSGI app, so an endpoint
another app adds is fuzzed the day it lands, with no list to update here. Who calls is
decided by the path: /merchant/* with a merchant token, /callbacks/* unauthenticated but
correctly signed (else every body would stop at the signature), everything else as a buyer.
Each operation runs against a real shop: SKUs with stock in two warehouses, orders in several
states, payments, a refund, an after-sale case and an exception; positive examples are steered to
those real ids and a valid address part of the time, so the fuzzer reaches the business code
rather than only the 404s. Hypothesis is derandomized (the same examples on every run) and the
examples per operation are capped so the whole file takes a minute or two.
"""
import json
import os
import random
import zlib
from datetime import timedelta
from decimal import Decimal

import pytest
import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import CONTENT_TYPE_PROBES, coverage_scenario
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from shop_admin.kernel.actors import Actor
from tests import factories
from tests.conftest import ApiClient

FUZZ_LOG = os.environ.get("FUZZ_LOG")  # a file to append "METHOD path mode status body" of every call to
# Examples per operation (schemathesis adds its coverage and negative cases, about twice as many requests):
# 25 keeps the file near a minute on a quiet two-core machine as endpoints are added (40 took more than a minute).
EXAMPLES_PER_OPERATION = 25

CHECKS = [
    not_a_server_error,
    status_code_conformance,  # every status the API answers is documented for that operation
    content_type_conformance,
    response_schema_conformance,  # every body matches the documented schema of its status
    response_headers_conformance,
    negative_data_rejection,  # input the schema forbids is refused with a 4xx, never accepted
    missing_required_header,  # a missing Authorization or Idempotency-Key is a 4xx
    ignored_auth,  # an endpoint that declares a token refuses a call without one
    unsupported_method,  # a method the path does not take is a 405 with Allow
    allow_header_conformance,
    # Left out of `--checks all`: positive_data_acceptance (a valid-shaped request the business refuses, 409/422,
    # is a right answer here), max_response_time (the machine is shared) and the stateful-only checks.
]

CALLBACK_SECRETS = {
    "/api/v1/callbacks/payment": "PAYMENT_CALLBACK_SECRET",
    "/api/v1/callbacks/refund": "PAYMENT_CALLBACK_SECRET",
    "/api/v1/callbacks/logistics": "LOGISTICS_CALLBACK_SECRET",
}


def django_in_the_test_transaction(environ, start_response):
    """The project's WSGI app, minus the closing of the database connection around each request.

    That close would end the test's transaction; Django's own test client leaves it out for the same reason.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = APPLICATION(environ, start_response)
        body = b"".join(response)
        response.close()
        return [body]
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


APPLICATION = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", django_in_the_test_transaction)


@pytest.fixture(scope="module")
def world_once(django_db_setup, django_db_blocker):
    """The world, made once for the module in a transaction rolled back at the end (as tests/shop_admin/test_seed_demo.py
    does); each operation runs in its own savepoint on top of it (`world`), so each starts from the same untouched rows.

    Rate limits stay off (tests/conftest.py): the 429s have their own tests, here they would hide every other answer.
    """
    fast_hash = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    with (
        django_db_blocker.unblock(),
        override_settings(API_RATE_LIMITS_ENABLED=False, PASSWORD_HASHERS=fast_hash),
        transaction.atomic(),
    ):
        yield _make_world()
        transaction.set_rollback(True)


@pytest.fixture
def world(world_once, db, api_rate_limits_off):
    """A shop with real data in every state the fuzzed paths can reach, and the callers' tokens (see `world_once`)."""
    return world_once


def _make_world() -> dict:
    from aftersale.services import aftersale_open
    from aftersale.services.reviews import LineReview, reviews_create
    from orders.models import Order
    from orders.services.coupon_campaigns import coupon_claim, coupon_create
    from orders.services.exceptions import exception_open
    from orders.services.lifecycle import order_mark_delivered
    from orders.services.refunds import refund_create

    shop = factories.make_shop("模糊测试店", warehouses=(("杭州仓", "浙江省"), ("广州仓", "广东省")))
    skus = [
        factories.make_sku(shop, price="59.90", stock=500, name="蜂蜜柚子茶"),
        factories.make_sku(shop, price="9.90", stock=3, name="小样"),
        factories.make_sku(shop, price="199.00", stock=0, name="礼盒"),
    ]
    owner = factories.make_member(shop, username="fuzz_owner")
    buyer = factories.make_buyer("fuzz_buyer")
    buyer_api, merchant_api, anonymous = ApiClient(buyer.api_token), ApiClient(owner.api_token.key), ApiClient()

    def place():
        status, order = buyer_api.post("/orders", factories.order_payload(shop, (skus[0], 1)))
        assert status == 201, order
        return order["order_no"]

    def pay(order_no):
        status, payment = buyer_api.post(f"/orders/{order_no}/payments", {"channel": "douyin_pay"})
        assert status == 201, payment
        body = factories.callback_body(payment, txn=f"FUZZ-{payment['payment_id']}")
        headers = factories.signed_headers(body, settings.PAYMENT_CALLBACK_SECRET)
        assert anonymous.post("/callbacks/payment", raw=body, headers=headers)[0] == 200
        return payment["payment_id"]

    def ship(order_no, tracking_no):
        status, answer = merchant_api.post(f"/merchant/orders/{order_no}/ship", {"carrier": "ZTO", "tracking_no": tracking_no})
        assert status == 200, answer

    pending, paid, shipped, completed, cancelled, received = (place() for _ in range(6))
    payment_ids = [pay(no) for no in (paid, shipped, completed, received)]
    ship(shipped, "731234567890")
    ship(completed, "731234567891")
    ship(received, "731234567892")
    # Received and not reviewed yet: the buyer's review endpoints get past the state check.
    order_mark_delivered(order=Order.objects.get(order_no=received), actor=Actor.channel("ZTO"))
    assert buyer_api.post(f"/orders/{completed}/confirm-receipt")[0] == 200
    assert buyer_api.post(f"/orders/{cancelled}/cancel", {"reason": "不想要了"})[0] == 200
    status, unpaid_payment = buyer_api.post(f"/orders/{pending}/payments", {"channel": "wechat"})
    assert status == 201, unpaid_payment
    case = aftersale_open(
        order=Order.objects.get(order_no=completed), actor=Actor.for_buyer(buyer), case_type="refund_only", reason="质量问题"
    )
    exception = exception_open(order=Order.objects.get(order_no=paid), kind="merchant_reported", actor=Actor.for_user(owner))
    refund = refund_create(order=Order.objects.get(order_no=shipped), amount=Decimal("1.00"), actor=Actor.for_user(owner), reason="部分退款")
    now = timezone.now()
    coupon = coupon_create(
        shop=shop, actor=Actor.for_user(owner), name="满100减10", scope="skus", sku_ids=[skus[0].pk], threshold="100.00",
        amount="10.00", valid_from=now, valid_to=now + timedelta(days=30), total_quantity=50, per_buyer_limit=2,
    )
    coupon_claim(code=coupon.code, buyer=buyer)
    rate_coupon = coupon_create(
        shop=shop, actor=Actor.for_user(owner), name="全店9折", scope="shop", sku_ids=[], threshold="0.00", discount_type="rate",
        rate="9", max_discount="20.00", valid_from=now, valid_to=now + timedelta(days=30), total_quantity=50, per_buyer_limit=2,
    )
    coupon_claim(code=rate_coupon.code, buyer=buyer)
    from aftersale.models import ReturnAddress

    desk = ReturnAddress.objects.create(shop=shop, name="收货台", phone="13700000000", province="广东省", city="广州市", district="天河区",
                                        detail="体育西路1号")
    [review] = reviews_create(
        order=Order.objects.get(order_no=completed), actor=Actor.for_buyer(buyer),
        items=[LineReview(sku_id=skus[0].pk, rating=1, text="差评")],
    )
    from aftersale.services.rules import rule_create

    rule = rule_create(
        shop=shop, actor=Actor.for_user(owner),
        data={"name": "小额仅退款", "enabled": True, "types": ["refund_only"], "order_states": ["received"], "max_amount": "50.00"},
    )
    return {
        "tokens": {"buyer": buyer.api_token, "merchant": owner.api_token.key},
        "rule_id": [rule.pk],
        # a rule the service takes, so that some creations, changes and dry runs get past the 422s
        "rule_terms": {
            "types": [["refund_only"], ["refund_only", "return_refund"]],
            "order_states": [["received"], ["not_shipped", "shipped", "received"]],
            "max_amount": ["50.00", "9.90"],
            "reasons": [[], ["质量问题"]],
            "action": ["agree", "refund_without_return"],
            "days": [7, 90],
        },
        "shop_id": [shop.pk],
        "sku_id": [s.pk for s in skus],
        "warehouse_id": list(shop.warehouses.values_list("pk", flat=True)),
        "order_no": [pending, paid, shipped, completed, cancelled, received],
        "payment_id": [*payment_ids, unpaid_payment["payment_id"]],
        "refund_id": [refund.pk],
        "aftersale": [case.pk],
        "exception": [exception.pk],
        "tracking_no": ["731234567890", "731234567891", "731234567892"],
        "review_id": [review.pk],
        "rating": [1, 5],
        "coupon_id": [coupon.pk, rate_coupon.pk],
        "coupon_code": [coupon.code, rate_coupon.code],
        "sku_ids": [[s.pk for s in skus[:2]]],
        "return_address_id": list(ReturnAddress.objects.filter(shop=shop).values_list("pk", flat=True)) + [desk.pk],
        # an address the book takes, so that some creations and changes get past the 422s
        "return_address_terms": {key: [value] for key, value in factories.RETURN_ADDRESS.items()},
        "deadline_terms": {"within": ["2h", "24h", "3d", "30d"], "kind": ["ship", "aftersale_reply", "exception", "recovery", "review_reply"]},
        # the shop's parcels are ZTO; the at-risk list reads their routes
        "parcel_terms": {"carrier": ["ZTO"], "status": ["in_transit", "signed"], "at_risk": [True, False]},
        "coupon_terms": {
            "threshold": ["100.00", "59.90"],
            "amount": ["10.00", "5.50"],
            "valid_from": [now.isoformat()],
            "valid_to": [(now + timedelta(days=7)).isoformat()],
            "scope": ["shop", "skus"],
            "discount_type": ["amount", "rate"],
            "rate": ["8.5", "9"],
            "max_discount": ["20.00"],
        },
    }


def _real_value(key: str, path: str, world: dict, rng: random.Random):
    """A real value for a parameter or body field of this name, or None to keep what the fuzzer drew."""
    if key == "id" or key.endswith("_id") and key not in world:
        pool = world["aftersale"] if "aftersale" in path else world["exception"] if "exception" in path else None
    elif path.endswith("/merchant/coupons") and key in world["coupon_terms"]:
        pool = world["coupon_terms"][key]  # terms a campaign takes, so that some creations get past the 422s
    elif "/merchant/aftersale-rules" in path and key in world["rule_terms"]:
        pool = world["rule_terms"][key]
    elif "/merchant/return-addresses" in path and key in world["return_address_terms"]:
        pool = world["return_address_terms"][key]
    elif path.endswith("/merchant/deadlines") and key in world["deadline_terms"]:
        pool = world["deadline_terms"][key]  # a span and a kind the queue takes, so that pages are listed, not only 422s
    elif path.endswith("/merchant/parcels") and key in world["parcel_terms"]:
        pool = world["parcel_terms"][key]
    elif key == "code" and path.endswith("/claim"):
        pool = world["coupon_code"]  # only the coupon's path: a tracking event's `code` is something else
    elif key == "address":
        return dict(factories.ADDRESS)
    else:
        pool = world.get(key)
    return rng.choice(pool) if pool else None


def _steer(node, path: str, world: dict, rng: random.Random):
    """Replace, two times in three, each field whose name we know with a real value (recursively through the body)."""
    if isinstance(node, dict):
        if "carrier" in node and "tracking_no" in node and rng.random() < 2 / 3:
            # A parcel of the shop (tracking pushes find it), or a new number ZTO's format takes (shipping takes it).
            fresh = f"73{rng.randrange(10**10):010d}"
            node["carrier"], node["tracking_no"] = "ZTO", rng.choice([*world["tracking_no"], fresh])
        for key in list(node):
            real = _real_value(key, path, world, rng)
            if real is not None and rng.random() < 2 / 3:
                node[key] = real
            else:
                _steer(node[key], path, world, rng)
    elif isinstance(node, list):
        for item in node:
            _steer(item, path, world, rng)


def _caller_headers(case, world: dict) -> tuple[dict, bytes | None]:
    path = case.operation.schema.get_full_path(case.path)
    if path.startswith("/api/v1/callbacks/"):
        body = b"" if isinstance(case.body, NotSet) else case.body
        raw = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else json.dumps(body).encode()
        secret = getattr(settings, CALLBACK_SECRETS.get(path, "PAYMENT_CALLBACK_SECRET"))
        return factories.signed_headers(raw, secret), raw
    if (
        case.meta is not None
        and case.meta.is_negative_at(ParameterLocation.HEADER)
        and coverage_scenario(case) not in CONTENT_TYPE_PROBES
    ):
        return {}, None  # the fuzzer broke or left out the Authorization header on purpose: send it as drawn
    # An undeclared or boundary-less Content-Type is a broken header too, but sent without the token it stopped at
    # the 401 and never reached the body parser (multipart without a boundary was a 500 the fuzzer did not see).
    token = world["tokens"]["merchant" if path.startswith("/api/v1/merchant/") else "buyer"]
    return {"Authorization": f"Bearer {token}"}, None


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,  # CI sees the same examples on every run
    database=None,  # no .hypothesis/ folder in the work tree
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)
def test_every_endpoint_holds_its_schema(case, world):
    if case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE:
        rng = random.Random(zlib.crc32(repr((case.path_parameters, case.query, case.body)).encode()))
        path = case.operation.path
        _steer(case.path_parameters, path, world, rng)
        _steer(case.query, path, world, rng)
        if not isinstance(case.body, NotSet):
            _steer(case.body, path, world, rng)
    headers, raw = _caller_headers(case, world)
    kwargs = {"data": raw} if raw is not None else {}
    response = case.call_and_validate(headers=headers, checks=CHECKS, **kwargs)
    if FUZZ_LOG:  # what reached which answer, to see that the examples get past the 404s
        with open(FUZZ_LOG, "a") as log:
            mode = case.meta.generation.mode.value if case.meta else "-"
            log.write(f"{case.method} {case.operation.path} {mode} {response.status_code} {response.text[:160]}\n")

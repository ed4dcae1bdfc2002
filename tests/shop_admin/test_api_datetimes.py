"""Every time the API takes is checked in one place: an offset or a year the database cannot hold is a 422 naming the field."""
import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from orders.models import Order
from shop_admin.kernel.api import api_datetime_check
from tests.factories import signed_headers

# What the fuzzer sent (an offset PostgreSQL refuses), and its relatives.
OUT_OF_RANGE = [
    ("0068-10-20T09:41:51.33-20:20", "时区偏移"),
    ("2026-01-01T00:00:00+16:00", "时区偏移"),
    ("2026-01-01T00:00:00-15:00", "时区偏移"),
    ("0001-01-01T00:00:00+05:00", "时间超出范围"),  # before year 1 in UTC: Python cannot hold it
    ("9999-12-31T23:59:59-05:00", "时间超出范围"),  # after year 9999 in UTC
    ("9999-12-31T23:59:59", "时间超出范围"),  # shop time; in UTC it still fits, but not shown in every zone
    ("0000-01-01T00:00:00Z", ""),  # no year 0 at all
]


@pytest.mark.parametrize("value, reason", OUT_OF_RANGE)
def test_updated_since_out_of_range_is_a_422_naming_the_field(merchant_api, value, reason):
    status, answer = merchant_api.get(f"/merchant/orders?updated_since={value.replace('+', '%2B')}")

    assert status == 422, answer
    assert answer["error"]["code"] == "invalid_input"
    assert reason in answer["error"]["details"]["fields"]["updated_since"]


def test_updated_since_in_any_real_zone_still_finds_the_orders(merchant_api, sku, place_order):
    order = place_order((sku, 1))
    updated = Order.objects.get(order_no=order["order_no"]).updated_at
    # The same instant written in the zone furthest west and furthest east that exists.
    for offset in (-12, 14):
        moment = (updated - timedelta(seconds=1)).astimezone(timezone.get_fixed_timezone(offset * 60))
        status, answer = merchant_api.get("/merchant/orders?updated_since=" + moment.isoformat().replace("+", "%2B"))
        assert status == 200, answer
        assert [o["order_no"] for o in answer["orders"]] == [order["order_no"]]


def test_a_time_without_an_offset_is_shop_time():
    assert api_datetime_check(datetime(2026, 11, 23, 8, 0)) == datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def test_a_forged_cursor_with_a_time_out_of_range_is_refused_by_every_feed(api, buyer_api, merchant_api):
    """Each feed's cursor carries a time back to the database; every feed in the schema, other apps' included."""
    schema = api.get("/openapi.json")[1]
    feeds = [
        path.removeprefix("/api/v1")
        for path, methods in schema["paths"].items()
        if any(p["name"] == "cursor" and p["in"] == "query" for p in methods.get("get", {}).get("parameters", []))
    ]
    assert "/merchant/orders" in feeds and "/merchant/aftersales" in feeds, feeds
    for feed in feeds:
        client = merchant_api if feed.startswith("/merchant/") else buyer_api
        for stamp in ["2026-01-01T00:00:00+20:00", "0001-01-01T00:00:00+08:00"]:
            cursor = base64.urlsafe_b64encode(f"{stamp}|1".encode()).decode()

            status, answer = client.get(f"{feed}?cursor={cursor}")

            assert status == 422, (feed, answer)
            assert "cursor" in answer["error"]["details"].get("fields", {}), (feed, answer)


def test_payment_callback_time_with_an_offset_out_of_range_is_a_422_naming_time(api, buyer_api, sku, place_order):
    order = place_order((sku, 1))
    status, payment = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "alipay"})
    body = json.dumps(
        {
            "payment_id": payment["payment_id"],
            "channel_txn_id": "ALI-TZ",
            "status": "succeeded",
            "amount": payment["amount"],
            "time": "2026-11-23T10:00:00+23:59",
        }
    ).encode()

    status, answer = api.post("/callbacks/payment", raw=body, headers=signed_headers(body, settings.PAYMENT_CALLBACK_SECRET))

    assert status == 422, answer
    assert "time" in answer["error"]["details"]["fields"]
    assert Order.objects.get(order_no=order["order_no"]).status == "pending_payment"


def _request_datetime_schemas(node, where):
    """Every schema with format date-time under `node` (parameters and request bodies), with where it is."""
    if isinstance(node, dict):
        if node.get("format") == "date-time":
            yield where, node
        for key, value in node.items():
            yield from _request_datetime_schemas(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _request_datetime_schemas(value, f"{where}[{index}]")


def _definitions(node, found: dict) -> dict:
    """Every named schema: the components', and the $defs of bodies given whole (callbacks' openapi_extra)."""
    if isinstance(node, dict):
        found.update(node.get("$defs", {}))
        for value in node.values():
            _definitions(value, found)
    elif isinstance(node, list):
        for value in node:
            _definitions(value, found)
    return found


def _resolve_refs(node, definitions, seen=()):
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return {} if name in seen else _resolve_refs(definitions[name], definitions, (*seen, name))
        return {key: _resolve_refs(value, definitions, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve_refs(value, definitions, seen) for value in node]
    return node


def test_every_time_the_api_takes_is_an_api_datetime(api):
    """New endpoints included: a query, path or body time typed plain `datetime` skips the range check and can be a 500."""
    schema = api.client.get("/api/v1/openapi.json").json()
    definitions = _definitions(schema, dict(schema.get("components", {}).get("schemas", {})))
    found = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            inputs = _resolve_refs({"parameters": operation.get("parameters", []), "body": operation.get("requestBody", {})}, definitions)
            for where, node in _request_datetime_schemas(inputs, f"{method.upper()} {path}"):
                found.append(where)
                assert node.get("description", "").startswith("ISO 8601 with an offset within ±14:00"), (
                    f"{where} is a datetime input not typed shop_admin.kernel.api.ApiDateTime"
                )
    assert any(w.startswith("GET /api/v1/merchant/orders.") for w in found), found
    assert any(w.startswith("POST /api/v1/callbacks/payment.") for w in found), found

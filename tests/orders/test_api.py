"""The JSON API: every caller reaches only its own data, and bad input is a 4xx in the contract's shape, never a 500."""
import pytest

from orders.models import Order
from tests.conftest import ApiClient
from tests.factories import make_buyer, make_member, make_shop, make_sku, order_payload


def assert_error(answer, status: int, code: str | None = None):
    got_status, body = answer
    assert got_status == status, body
    assert set(body) == {"error"}
    assert {"code", "message", "details"} <= set(body["error"])
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code


BUYER_ENDPOINTS = [
    ("GET", "/shops", None),
    ("GET", "/shops/1/products", None),
    ("POST", "/orders", {}),
    ("GET", "/orders/123", None),
    ("POST", "/orders/123/payments", {"channel": "wechat"}),
    ("POST", "/orders/123/cancel", {}),
    ("POST", "/orders/123/address", {"address": {}}),
    ("POST", "/orders/123/confirm-receipt", None),
    ("POST", "/orders/123/not-received", {"description": "x"}),
]
MERCHANT_ENDPOINTS = [
    ("GET", "/merchant/orders", None),
    ("GET", "/merchant/orders/123", None),
    ("POST", "/merchant/orders/123/ship", {"carrier": "ZTO", "tracking_no": "73100000000001"}),
    ("PUT", "/merchant/skus/1/stock", {"available": 1}),
]


@pytest.mark.parametrize("method, path, body", BUYER_ENDPOINTS + MERCHANT_ENDPOINTS)
@pytest.mark.parametrize("token", [None, "not-a-real-token"])
def test_every_endpoint_wants_a_valid_token(db, method, path, body, token):
    assert_error(ApiClient(token).call(method, path, body), 401, "unauthorized")


@pytest.mark.parametrize("method, path, body", MERCHANT_ENDPOINTS)
def test_a_buyer_token_does_not_open_the_merchant_api(buyer_api, method, path, body):
    assert_error(buyer_api.call(method, path, body), 401, "unauthorized")


def test_another_buyers_order_does_not_exist_for_me(shop, sku, place_order):
    order = place_order((sku, 1))
    stranger = ApiClient(make_buyer().api_token)
    for method, path, body in [
        ("GET", f"/orders/{order['order_no']}", None),
        ("POST", f"/orders/{order['order_no']}/payments", {"channel": "wechat"}),
        ("POST", f"/orders/{order['order_no']}/cancel", {"reason": "x"}),
        ("POST", f"/orders/{order['order_no']}/confirm-receipt", None),
    ]:
        assert_error(stranger.call(method, path, body), 404, "order_not_found")
    assert Order.objects.get(order_no=order["order_no"]).status == "pending_payment"


def test_another_shops_merchant_cannot_see_or_touch_my_orders_or_stock(shop, sku, place_order, pay):
    order = place_order((sku, 1))
    pay(order["order_no"])
    other = ApiClient(make_member(make_shop("隔壁店")).api_token.key)
    assert_error(other.get(f"/merchant/orders/{order['order_no']}"), 404, "order_not_found")
    assert_error(
        other.post(f"/merchant/orders/{order['order_no']}/ship", {"carrier": "ZTO", "tracking_no": "73100000000001"}),
        404,
        "order_not_found",
    )
    assert_error(other.put(f"/merchant/skus/{sku.pk}/stock", {"available": 0}), 404, "sku_not_found")
    status, feed = other.get("/merchant/orders")
    assert status == 200
    assert feed["orders"] == []
    assert Order.objects.get(order_no=order["order_no"]).status == "paid"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"items": [], "address": {}}, "shop_id"),
        ({"shop_id": "abc", "items": [{"sku_id": 1, "quantity": 1}], "address": {}}, "shop_id"),
        ({"shop_id": 1, "items": [], "address": {}}, "items"),
        ({"shop_id": 1, "items": [{"sku_id": 1, "quantity": 0}], "address": {}}, "items.0.quantity"),
        ({"shop_id": 1, "items": [{"sku_id": 1, "quantity": 1000}], "address": {}}, "items.0.quantity"),
        ({"shop_id": 1, "items": [{"quantity": 1}], "address": {}}, "items.0.sku_id"),
        ({"shop_id": 1, "items": [{"sku_id": 1, "quantity": 1}]}, "address"),
        ({"shop_id": 1, "items": "many", "address": {}}, "items"),
    ],
)
def test_malformed_order_is_422_naming_the_field(buyer_api, payload, field):
    got = buyer_api.post("/orders", payload)
    assert_error(got, 422, "invalid_input")
    assert field in got[1]["error"]["details"]["fields"]


def test_body_that_is_not_json_is_a_4xx(buyer_api):
    status, body = buyer_api.post("/orders", raw=b"{not json")
    assert status in (400, 422)
    assert "error" in body


def test_order_for_unknown_shop_is_404(buyer_api, sku):
    payload = order_payload(sku.shop, (sku, 1))
    payload["shop_id"] = 987654
    assert_error(buyer_api.post("/orders", payload), 404, "shop_not_found")


def test_products_of_unknown_shop_is_404(buyer_api):
    assert_error(buyer_api.get("/shops/987654/products"), 404, "shop_not_found")


def test_products_show_stock_status(shop, buyer_api, settings):
    make_sku(shop, stock=500, code="MANY")
    make_sku(shop, stock=3, code="FEW")
    make_sku(shop, stock=0, code="NONE")
    status, products = buyer_api.get(f"/shops/{shop.pk}/products")
    assert status == 200
    by_code = {s["sku_code"]: s for p in products for s in p["skus"]}
    assert by_code["MANY"]["stock_status"] == "in_stock"
    assert by_code["FEW"]["stock_status"] == "low_stock"
    assert by_code["NONE"]["stock_status"] == "sold_out"
    assert by_code["MANY"]["price"] == "59.90"


def test_unknown_payment_channel_is_422(sku, buyer_api, place_order):
    order = place_order((sku, 1))
    got = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "paypal"})
    assert_error(got, 422, "invalid_input")
    assert "channel" in got[1]["error"]["details"]["fields"]


def test_not_received_before_signing_is_refused_and_after_signing_opens_an_exception(shop, sku, buyer_api, merchant_api, place_order, pay):
    from orders.services.lifecycle import order_mark_delivered
    from shop_admin.kernel.actors import Actor

    order = place_order((sku, 1))
    assert_error(buyer_api.post(f"/orders/{order['order_no']}/not-received", {"description": "没收到"}), 409, "invalid_transition")
    pay(order["order_no"])
    merchant_api.post(f"/merchant/orders/{order['order_no']}/ship", {"carrier": "ZTO", "tracking_no": "73100000000009"})
    order_mark_delivered(order=Order.objects.get(order_no=order["order_no"]), actor=Actor.channel("ZTO"))
    status, exception = buyer_api.post(f"/orders/{order['order_no']}/not-received", {"description": "快递柜里没有"})
    assert status == 201, exception
    assert (exception["kind"], exception["status"]) == ("not_received", "open")
    _status, detail = merchant_api.get(f"/merchant/orders/{order['order_no']}")
    assert [e["kind"] for e in detail["exceptions"]] == ["not_received"]


def test_merchant_feed_pages_by_cursor_newest_change_first(shop, sku, merchant_api, place_order):
    numbers = [place_order((sku, 1))["order_no"] for _ in range(5)]
    seen = []
    cursor = None
    while True:
        status, page = merchant_api.get(f"/merchant/orders?limit=2{'&cursor=' + cursor if cursor else ''}")
        assert status == 200, page
        seen += [o["order_no"] for o in page["orders"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(numbers))
    assert_error(merchant_api.get("/merchant/orders?cursor=garbage"), 422, "invalid_cursor")
    assert_error(merchant_api.get("/merchant/orders?limit=101"), 422, "invalid_input")
    assert_error(merchant_api.get("/merchant/orders?status=lost"), 422, "invalid_input")


def test_stock_sync_refuses_to_strand_paid_orders_unless_forced(shop, merchant_api, place_order, pay):
    sku = make_sku(shop, stock=10)
    paid = place_order((sku, 3))
    pay(paid["order_no"])
    place_order((sku, 2))  # locked, unpaid
    status, body = merchant_api.put(f"/merchant/skus/{sku.pk}/stock", {"available": 20})
    assert (status, body["available"], body["locked"], body["occupied"]) == (200, 15, 2, 3)
    got = merchant_api.put(f"/merchant/skus/{sku.pk}/stock", {"available": 2})
    assert_error(got, 409, "stock_at_risk")
    assert got[1]["error"]["details"]["shortfall"] == 3
    status, body = merchant_api.put(f"/merchant/skus/{sku.pk}/stock", {"available": 2, "force": True})
    assert status == 200, body
    # The unpaid lock (2) gives way first; the paid order (3) cannot be filled from 2 and is flagged short,
    # so the 2 units on the shelf stay on sale.
    assert (body["available"], body["locked"], body["occupied"]) == (2, 0, 0)
    _s, detail = merchant_api.get(f"/merchant/orders/{paid['order_no']}")
    assert [e["kind"] for e in detail["exceptions"]] == ["oversell"]
    assert_error(merchant_api.put(f"/merchant/skus/{sku.pk}/stock", {"available": -1}), 422, "invalid_stock")
    assert_error(merchant_api.put(f"/merchant/skus/{sku.pk}/stock", {"available": "lots"}), 422, "invalid_input")


def test_force_takes_unpaid_locks_first_then_flags_newest_paid_orders(shop, merchant_api, place_order, pay):
    sku = make_sku(shop, stock=10)
    older = place_order((sku, 3))
    pay(older["order_no"])
    newer = place_order((sku, 3))
    pay(newer["order_no"])
    unpaid = place_order((sku, 2))
    status, body = merchant_api.put(f"/merchant/skus/{sku.pk}/stock", {"available": 4, "force": True})
    assert status == 200, body
    # 8 promised, 4 on the shelf: the unpaid lock (2) gives way, then the newest paid order (3) is short.
    assert (body["available"], body["locked"], body["occupied"]) == (1, 0, 3)
    _s, newer_detail = merchant_api.get(f"/merchant/orders/{newer['order_no']}")
    _s, older_detail = merchant_api.get(f"/merchant/orders/{older['order_no']}")
    assert [e["kind"] for e in newer_detail["exceptions"]] == ["oversell"] and newer_detail["on_hold"]
    assert older_detail["exceptions"] == [] and not older_detail["on_hold"]
    _s, unpaid_detail = merchant_api.get(f"/merchant/orders/{unpaid['order_no']}")
    assert unpaid_detail["items"][0]["stock_state"] == "released"


def test_openapi_schema_lists_the_contract_paths(api, db):
    status, schema = api.get("/openapi.json")
    assert status == 200
    paths = set(schema["paths"])
    for path in [
        "/api/v1/shops",
        "/api/v1/shops/{shop_id}/products",
        "/api/v1/orders",
        "/api/v1/orders/{order_no}",
        "/api/v1/orders/{order_no}/payments",
        "/api/v1/orders/{order_no}/cancel",
        "/api/v1/orders/{order_no}/address",
        "/api/v1/orders/{order_no}/confirm-receipt",
        "/api/v1/orders/{order_no}/not-received",
        "/api/v1/merchant/orders",
        "/api/v1/merchant/orders/{order_no}",
        "/api/v1/merchant/orders/{order_no}/ship",
        "/api/v1/merchant/skus/{sku_id}/stock",
        "/api/v1/callbacks/payment",
    ]:
        assert path in paths, path

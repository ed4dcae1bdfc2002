"""Bad input anywhere in the console or the API gets a 4xx or a page that says what is wrong, never a 500."""
import pytest

CONSOLE_GETS = [
    "/orders/?page=-1",
    "/orders/?page=abc",
    "/orders/?page=99999999999",
    "/orders/?per_page=7",
    "/orders/?created_from=2026-13-45",
    "/orders/?created_to=yesterday",
    "/orders/?status=lost",
    "/orders/?exception=nonsense",
    "/orders/?sort=sideways",
    "/orders/?q=" + "长" * 500,
    "/orders/?q=%00%01",
    "/orders/?q=SF",
    "/orders/?q=1",
    "/orders/not-an-order/",
    "/orders/" + "9" * 40 + "/",
    "/logistics/bulk-ship/?order_no=garbage",
    "/logistics/bulk-ship/",
    "/jobs/999999/",
    "/jobs/999999/download/",
    "/products/999999/settings/",
    "/shop/select/?next=https://evil.example/",
]
CONSOLE_POSTS = [
    ("/orders/bulk/", {"order_no": ["x"], "action": "explode"}),
    ("/orders/bulk/", {"action": "remark"}),
    ("/orders/bulk/", {"order_no": ["x"], "action": "remark", "flag": "nine"}),
    ("/logistics/bulk-ship/", {"order_no": ["x"], "carrier_x": "??", "tracking_x": ""}),
    ("/logistics/bulk-ship/", {}),
    ("/products/stock/999999/", {"on_hand": "1"}),
    ("/orders/not-an-order/ship/", {"carrier": "ZTO", "tracking_no": "1"}),
    ("/shop/select/", {"shop_id": "abc"}),
    ("/i18n/setlang/", {"language": "klingon"}),
    ("/exceptions/reconciliation/run/", {"day": "0001-01-01"}),
    ("/exceptions/reconciliation/run/", {"day": "9999-12-31"}),
    ("/exceptions/reconciliation/run/", {"day": "2026-02-30"}),
    ("/exceptions/reconciliation/run/", {"day": "x" * 500}),
]


@pytest.mark.parametrize("path", CONSOLE_GETS)
def test_console_get_with_bad_input(console, sku, path):
    assert console.get(path).status_code < 500


@pytest.mark.parametrize("path, data", CONSOLE_POSTS)
def test_console_post_with_bad_input(console, sku, path, data):
    assert console.post(path, data).status_code < 500


def test_stock_and_order_actions_with_bad_input(console, sku, place_order, pay):
    from orders.models import StockLevel

    order = place_order((sku, 1))
    pay(order["order_no"])
    level = StockLevel.objects.get(sku=sku)
    for data in ({"on_hand": ""}, {"on_hand": "1e9"}, {"on_hand": "-1"}, {}):
        assert console.post(f"/products/stock/{level.pk}/", data).status_code < 500
    for path, data in [
        ("ship", {}), ("ship", {"carrier": "ZTO"}), ("ship", {"carrier": "X" * 50, "tracking_no": "Y" * 100}),
        ("cancel", {}), ("close", {"reason": "x" * 500}), ("remark", {"flag": "-1"}), ("remark", {"remark": "x" * 5000, "flag": "1"}),
    ]:
        assert console.post(f"/orders/{order['order_no']}/{path}/", data).status_code < 500
    settings_url = f"/products/{sku.product_id}/settings/"
    for data in ({"is_presale": "on", "presale_deposit_ratio": "abc"}, {"presale_balance_due": "tomorrow"}, {"excluded_regions": ["火星"]}):
        assert console.post(settings_url, data).status_code < 500


API_BAD_BODIES = [
    ("POST", "/orders", {"shop_id": 1, "items": [{"sku_id": 1, "quantity": "many"}], "address": {}}),
    ("POST", "/orders", {"shop_id": 1, "items": [{"sku_id": 1, "quantity": 1}], "address": []}),
    ("POST", "/orders", {"shop_id": 1, "items": [{"sku_id": 1, "quantity": 1}], "address": {"phone": 13800138000}}),
    ("POST", "/orders", {"shop_id": 10**30, "items": [{"sku_id": 1, "quantity": 1}], "address": {}}),
    ("POST", "/orders", {"shop_id": 1, "items": [{"sku_id": -1, "quantity": 1}], "address": {}, "coupon_codes": "X"}),
    ("POST", "/orders", ["not", "an", "object"]),
    ("POST", "/orders", None),
    ("GET", "/orders/%00", None),
    ("GET", "/shops/abc/products", None),
    ("POST", "/orders/1/payments", {}),
    ("POST", "/orders/1/address", {"address": "here"}),
    ("POST", "/orders/1/not-received", {"description": ""}),
]


@pytest.mark.parametrize("method, path, body", API_BAD_BODIES)
def test_api_bad_bodies(buyer_api, sku, method, path, body):
    status, answer = buyer_api.call(method, path, body)
    assert 400 <= status < 500, answer
    assert "error" in answer


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/merchant/orders?updated_since=not-a-time", None),
        ("GET", "/merchant/orders?limit=0", None),
        ("GET", "/merchant/orders?cursor=%FF%FE", None),
        ("PUT", "/merchant/skus/abc/stock", {"available": 1}),
        ("PUT", "/merchant/skus/1/stock", {"available": 10**20}),
        ("PUT", "/merchant/skus/1/stock", {"available": 1, "warehouse_id": "main"}),
        ("POST", "/merchant/orders/1/ship", {"carrier": None, "tracking_no": 5}),
    ],
)
def test_merchant_api_bad_input(merchant_api, sku, method, path, body):
    status, answer = merchant_api.call(method, path, body)
    assert 400 <= status < 500, answer


@pytest.mark.parametrize(
    "method, path, body, headers",
    [
        ("POST", "/orders", {"shop_id": 1, "items": [{"sku_id": 1, "quantity": 1}], "address": {}, "buyer_message": "a\x00b"}, {}),
        ("POST", "/orders", {"shop_id": 1, "items": [{"sku_id": 1, "quantity": 1}], "address": {}, "coupon_codes": ["C\x00"]}, {}),
        ("POST", "/orders", {"shop_id": 1, "items": [{"sku_id": 1, "quantity": 1}], "address": {}}, {"Idempotency-Key": "k\x00"}),
        ("POST", "/orders/1/cancel", {"reason": "\x00"}, {}),
    ],
)
def test_nul_bytes_are_bad_input_not_a_database_error(buyer_api, sku, method, path, body, headers):
    status, answer = buyer_api.call(method, path, body, headers=headers)
    assert 400 <= status < 500, answer

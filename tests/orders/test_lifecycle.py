"""The order runs from submission to settlement, and every refusal on the way is clear."""
from decimal import Decimal

from orders.constants import EventKind, LedgerKind, OrderStatus
from orders.models import LedgerEntry, Order, Settlement
from orders.services.lifecycle import order_mark_delivered
from shop_admin.kernel.actors import Actor
from tests.factories import make_member, make_sku, stock_of


def test_order_runs_from_submission_to_settlement(shop, sku, buyer_api, merchant_api, place_order, pay):
    # given an order of 2 units
    order = place_order((sku, 2))
    assert order["status"] == "pending_payment"
    assert stock_of(sku) == {"available": 98, "locked": 2, "occupied": 0}

    # when it is paid, shipped, signed and confirmed
    pay(order["order_no"])
    assert stock_of(sku) == {"available": 98, "locked": 0, "occupied": 2}
    status, shipped = merchant_api.post(f"/merchant/orders/{order['order_no']}/ship", {"carrier": "中通", "tracking_no": "73100000000001"})
    assert status == 200, shipped
    assert shipped["status"] == "shipped"
    assert shipped["shipments"][0]["carrier"] == "ZTO"
    assert stock_of(sku) == {"available": 98, "locked": 0, "occupied": 0}
    order_mark_delivered(order=Order.objects.get(order_no=order["order_no"]), actor=Actor.channel("ZTO"))
    status, done = buyer_api.post(f"/orders/{order['order_no']}/confirm-receipt")

    # then it is complete and escrow minus 5 % commission is settled to the merchant
    assert status == 200, done
    assert done["status"] == "completed"
    settlement = Settlement.objects.get(order__order_no=order["order_no"])
    assert settlement.gross == Decimal("119.80")
    assert settlement.commission == Decimal("5.99")
    assert settlement.net == Decimal("113.81")
    kinds = list(LedgerEntry.objects.filter(order__order_no=order["order_no"]).values_list("kind", flat=True).order_by("pk"))
    assert kinds == [LedgerKind.ESCROW_IN, LedgerKind.COMMISSION, LedgerKind.SETTLEMENT]
    transitions = [(e["from_status"], e["to_status"]) for e in done["events"] if e["kind"] == EventKind.TRANSITION]
    assert transitions == [
        ("pending_payment", "paid"),
        ("paid", "shipped"),
        ("shipped", "delivered"),
        ("delivered", "completed"),
    ]


def test_order_number_is_digits_and_unique(place_order, sku):
    numbers = {place_order((sku, 1))["order_no"] for _ in range(5)}
    assert len(numbers) == 5
    assert all(n.isdigit() and len(n) == 22 for n in numbers)


def test_shipping_an_unpaid_order_is_refused_with_its_state(sku, merchant_api, place_order):
    order = place_order((sku, 1))
    status, body = merchant_api.post(f"/merchant/orders/{order['order_no']}/ship", {"carrier": "SF", "tracking_no": "SF1234567890123"})
    assert status == 409
    assert body["error"]["code"] == "invalid_transition"
    assert "待支付" in body["error"]["message"]
    assert Order.objects.get(order_no=order["order_no"]).status == OrderStatus.PENDING_PAYMENT


def test_tracking_number_must_fit_the_carrier(sku, merchant_api, place_order, pay):
    order = place_order((sku, 1))
    pay(order["order_no"])
    status, body = merchant_api.post(f"/merchant/orders/{order['order_no']}/ship", {"carrier": "顺丰", "tracking_no": "123"})
    assert status == 422
    assert "tracking_no" in body["error"]["details"]["fields"]
    status, body = merchant_api.post(f"/merchant/orders/{order['order_no']}/ship", {"carrier": "飞鸽", "tracking_no": "SF1234567890123"})
    assert status == 422
    assert "carrier" in body["error"]["details"]["fields"]


def test_buyer_cancel_releases_the_lock_and_cannot_cancel_twice(sku, buyer_api, place_order):
    order = place_order((sku, 3))
    status, body = buyer_api.post(f"/orders/{order['order_no']}/cancel", {"reason": "拍错了"})
    assert status == 200, body
    assert body["status"] == "cancelled"
    assert stock_of(sku) == {"available": 100, "locked": 0, "occupied": 0}
    status, body = buyer_api.post(f"/orders/{order['order_no']}/cancel", {"reason": "again"})
    assert status == 409
    assert stock_of(sku) == {"available": 100, "locked": 0, "occupied": 0}


def test_paid_order_cannot_be_cancelled_by_the_buyer(sku, buyer_api, place_order, pay):
    order = place_order((sku, 1))
    pay(order["order_no"])
    status, body = buyer_api.post(f"/orders/{order['order_no']}/cancel", {"reason": "不要了"})
    assert status == 409
    assert "待发货" in body["error"]["message"]


def test_address_can_change_before_shipment_only(sku, buyer_api, merchant_api, place_order, pay):
    order = place_order((sku, 1))
    new_address = {"name": "李四", "phone": "13912345678", "province": "广东省", "city": "深圳市", "district": "南山区", "detail": "科技园南区9号"}
    status, body = buyer_api.post(f"/orders/{order['order_no']}/address", {"address": new_address})
    assert status == 200, body
    assert body["address"]["city"] == "深圳市"
    assert body["address"]["phone"] == "139****5678"
    pay(order["order_no"])
    merchant_api.post(f"/merchant/orders/{order['order_no']}/ship", {"carrier": "ZTO", "tracking_no": "73100000000002"})
    status, body = buyer_api.post(f"/orders/{order['order_no']}/address", {"address": new_address})
    assert status == 409
    assert "发货后不能修改地址" in body["error"]["message"]


def test_large_order_needs_risk_review_before_shipping(shop, buyer_api, merchant_api, place_order, pay):
    phone = make_sku(shop, price="5999.00", stock=5, name="旗舰手机")
    order = place_order((phone, 1))
    pay(order["order_no"])
    status, detail = merchant_api.get(f"/merchant/orders/{order['order_no']}")
    assert detail["needs_risk_review"] is True
    assert [e["kind"] for e in detail["exceptions"]] == ["risk_review"]
    status, body = merchant_api.post(f"/merchant/orders/{order['order_no']}/ship", {"carrier": "SF", "tracking_no": "SF1234567890123"})
    assert status == 409
    assert "风控审核" in body["error"]["message"]


def test_warehouse_role_ships_but_customer_service_cannot_edit_stock(shop, sku, place_order, pay):
    from tests.conftest import ApiClient

    service = ApiClient(make_member(shop, role="service").api_token.key)
    status, body = service.put(f"/merchant/skus/{sku.pk}/stock", {"available": 10})
    assert status == 403
    assert body["error"]["code"] == "role_forbidden"
    warehouse = ApiClient(make_member(shop, role="warehouse").api_token.key)
    order = place_order((sku, 1))
    pay(order["order_no"])
    status, body = warehouse.post(f"/merchant/orders/{order['order_no']}/ship", {"carrier": "JT", "tracking_no": "JT1234567890123"})
    assert status == 200, body

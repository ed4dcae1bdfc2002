"""Helpers of the exception-centre tests: orders brought into each exception by its real cause."""
from django.conf import settings

from orders.models import Order, OrderException
from tests.factories import callback_body, signed_headers


def deliver(api, body: bytes):
    return api.post("/callbacks/payment", raw=body, headers=signed_headers(body, settings.PAYMENT_CALLBACK_SECRET))


def oversold_order(*, sku, place_order, pay, merchant_api, quantity: int = 1) -> tuple[Order, OrderException]:
    """A paid order whose occupied stock the merchant forced away: the order is held with an open oversell."""
    placed = place_order((sku, quantity))
    pay(placed["order_no"])
    status, body = merchant_api.put(f"/merchant/skus/{sku.pk}/stock", {"available": 0, "force": True, "warehouse_id": sku.stock_levels.first().warehouse_id})
    assert status == 200, body
    order = Order.objects.get(order_no=placed["order_no"])
    return order, OrderException.objects.get(order=order, kind="oversell", status="open")


def paid_order(*, sku, place_order, pay, quantity: int = 1) -> Order:
    placed = place_order((sku, quantity))
    pay(placed["order_no"])
    return Order.objects.get(order_no=placed["order_no"])


def stray_payment_order(*, sku, place_order, buyer_api, api) -> tuple[Order, OrderException]:
    """The buyer cancelled, then the channel reported the payment: money in escrow for a cancelled order."""
    placed = place_order((sku, 1))
    _status, payment = buyer_api.post(f"/orders/{placed['order_no']}/payments", {"channel": "alipay"})
    buyer_api.post(f"/orders/{placed['order_no']}/cancel", {"reason": "不要了"})
    status, result = deliver(api, callback_body(payment, txn=f"LATE-{payment['payment_id']}"))
    assert result["result"] == "flagged"
    order = Order.objects.get(order_no=placed["order_no"])
    return order, OrderException.objects.get(order=order, kind="payment_anomaly")

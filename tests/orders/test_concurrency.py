"""Two clerks clicking at once: one wins, the others get a clear conflict, the books stay right."""
import pytest
from django.conf import settings

from logistics.models import Shipment
from orders.constants import OrderStatus
from orders.models import Order, OrderEvent
from tests.concurrency import run_concurrently
from tests.conftest import ApiClient
from tests.factories import (
    ADDRESS,
    callback_body,
    make_buyer,
    make_member,
    make_sku,
    signed_headers,
    stock_of,
)


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_ships_give_one_success_and_nineteen_conflicts(shop):
    sku = make_sku(shop, stock=10)
    buyer = make_buyer()
    owner = make_member(shop)
    buyer_api = ApiClient(buyer.api_token)
    status, order = buyer_api.post("/orders", {"shop_id": shop.pk, "items": [{"sku_id": sku.pk, "quantity": 2}], "address": ADDRESS})
    assert status == 201
    _status, payment = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "wechat"})
    body = callback_body(payment, txn="WX-C")
    ApiClient().post("/callbacks/payment", raw=body, headers=signed_headers(body, settings.PAYMENT_CALLBACK_SECRET))

    results = run_concurrently(
        20,
        lambda i: ApiClient(owner.api_token.key).post(
            f"/merchant/orders/{order['order_no']}/ship", {"carrier": "ZTO", "tracking_no": f"7310000000{i:04d}"}
        ),
    )

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * 19
    conflicts = [body for status, body in results if status == 409]
    assert all(b["error"]["code"] == "invalid_transition" and "已发货" in b["error"]["message"] for b in conflicts)
    shipped = Order.objects.get(order_no=order["order_no"])
    assert shipped.status == OrderStatus.SHIPPED
    assert Shipment.objects.filter(order=shipped).count() == 1
    assert OrderEvent.objects.filter(order=shipped, to_status="shipped").count() == 1
    assert stock_of(sku) == {"available": 8, "locked": 0, "occupied": 0}


@pytest.mark.django_db(transaction=True)
def test_concurrent_cancel_and_pay_timeout_release_stock_once(shop):
    from django.utils import timezone

    from orders.services.lifecycle import order_cancel, order_pay_timeout
    from shop_admin.kernel.actors import Actor
    from shop_admin.kernel.errors import Conflict

    sku = make_sku(shop, stock=10)
    buyer = make_buyer()
    status, order = ApiClient(buyer.api_token).post(
        "/orders", {"shop_id": shop.pk, "items": [{"sku_id": sku.pk, "quantity": 4}], "address": ADDRESS}
    )
    target = Order.objects.get(order_no=order["order_no"])
    later = target.pay_deadline + timezone.timedelta(seconds=1)

    def act(i):
        if i % 2:
            return order_pay_timeout(now=later, ids=[target.pk])
        try:
            order_cancel(order=target, actor=Actor.for_buyer(buyer), reason="取消")
            return "cancelled"
        except Conflict:
            return "conflict"

    run_concurrently(10, act)
    assert Order.objects.get(pk=target.pk).status == OrderStatus.CANCELLED
    assert OrderEvent.objects.filter(order=target, to_status="cancelled").count() == 1
    assert stock_of(sku) == {"available": 10, "locked": 0, "occupied": 0}

"""Two clerks resolving one exception, or recovering one order, at the same instant: one wins, one coupon, one new order."""
import pytest
from django.conf import settings

from orders.models import Coupon, Order, OrderException
from orders.services.lifecycle import order_pay_timeout
from tests.concurrency import run_concurrently
from tests.conftest import ApiClient
from tests.factories import ADDRESS, callback_body, make_buyer, make_member, make_sku, signed_headers


def _paid_then_oversold(shop, owner):
    sku = make_sku(shop, stock=5)
    buyer_api = ApiClient(make_buyer().api_token)
    status, order = buyer_api.post("/orders", {"shop_id": shop.pk, "items": [{"sku_id": sku.pk, "quantity": 1}], "address": ADDRESS})
    assert status == 201
    _status, payment = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "douyin_pay"})
    body = callback_body(payment, txn=f"DY-{payment['payment_id']}")
    ApiClient().post("/callbacks/payment", raw=body, headers=signed_headers(body, settings.PAYMENT_CALLBACK_SECRET))
    status, _body = ApiClient(owner.api_token.key).put(f"/merchant/skus/{sku.pk}/stock", {"available": 0, "force": True})
    assert status == 200
    return OrderException.objects.get(order__order_no=order["order_no"], kind="oversell")


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_resolves_give_one_success_and_one_coupon(shop):
    owner = make_member(shop)
    exception = _paid_then_oversold(shop, owner)
    results = run_concurrently(
        10,
        lambda i: ApiClient(owner.api_token.key).post(
            f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "compensate", "coupon_amount": "5.00"}
        ),
    )
    assert sorted(status for status, _ in results) == [200] + [409] * 9
    assert Coupon.objects.filter(compensation_for=exception.order).count() == 1
    assert exception.order.events.filter(kind="exception_resolved").count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_recoveries_make_one_new_order(shop):
    owner = make_member(shop)
    sku = make_sku(shop, stock=5)
    buyer_api = ApiClient(make_buyer().api_token)
    _status, placed = buyer_api.post("/orders", {"shop_id": shop.pk, "items": [{"sku_id": sku.pk, "quantity": 1}], "address": ADDRESS})
    old = Order.objects.get(order_no=placed["order_no"])
    order_pay_timeout(now=old.pay_deadline, ids=[old.pk])
    results = run_concurrently(
        10, lambda i: ApiClient(owner.api_token.key).post(f"/merchant/orders/{old.order_no}/recover", {"confirm": True})
    )
    assert sorted(status for status, _ in results) == [201] + [409] * 9
    assert all(body["error"]["code"] == "already_recovered" for status, body in results if status == 409)
    assert Order.objects.filter(recovered_from=old).count() == 1

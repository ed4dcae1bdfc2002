"""Order recovery (订单召回): inside and outside the window, twice, with too little stock, the second confirmation."""
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from orders.constants import OrderStatus
from orders.models import CouponRedemption, Order, StockLevel
from orders.services.lifecycle import order_pay_timeout
from tests.conftest import ApiClient
from tests.factories import callback_body, make_coupon, make_member, make_shop, signed_headers, stock_of


def _expired_order(place_order, sku, **extra) -> Order:
    """An order the pay-window job cancelled: the clock, not a person."""
    placed = place_order((sku, 2), **extra)
    order = Order.objects.get(order_no=placed["order_no"])
    order_pay_timeout(now=order.pay_deadline + timedelta(seconds=1), ids=[order.pk])
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    return order


def test_recovery_makes_a_new_order_with_stock_locked_and_links_both(sku, place_order, merchant_api):
    old = _expired_order(place_order, sku)
    status, body = merchant_api.post(f"/merchant/orders/{old.order_no}/recover", {"confirm": True})
    assert status == 201, body
    assert body["recovered_from"] == old.order_no and body["order_no"] != old.order_no
    assert body["payable"] == "119.80" and body["pay_deadline"]
    new = Order.objects.get(order_no=body["order_no"])
    assert new.status == OrderStatus.PENDING_PAYMENT
    assert new.pay_deadline > timezone.now() + settings.ORDER_PAY_WINDOW - timedelta(minutes=1)
    assert stock_of(sku) == {"available": 98, "locked": 2, "occupied": 0}
    # both orders show the link in the merchant view, and the timeline of each records it
    _s, old_view = merchant_api.get(f"/merchant/orders/{old.order_no}")
    _s, new_view = merchant_api.get(f"/merchant/orders/{new.order_no}")
    assert old_view["recovered_to"] == new.order_no and new_view["recovered_from"] == old.order_no
    assert old.events.filter(kind="recovered").exists() and new.events.filter(kind="recovered").exists()


def test_recovery_carries_the_original_coupon_over(shop, sku, place_order, merchant_api):
    coupon = make_coupon(shop, code="SAVE10", discount="10.00")
    old = _expired_order(place_order, sku, coupon_codes=["SAVE10"])
    assert CouponRedemption.objects.get(order=old).released_at is not None
    status, body = merchant_api.post(f"/merchant/orders/{old.order_no}/recover", {"confirm": True})
    assert status == 201, body
    new = Order.objects.get(order_no=body["order_no"])
    assert new.coupon_discount == old.coupon_discount == 10
    redemption = CouponRedemption.objects.get(order=new)
    assert redemption.coupon_id == coupon.pk and redemption.released_at is None


def test_recovery_needs_the_second_confirmation(sku, place_order, merchant_api):
    old = _expired_order(place_order, sku)
    for body in ({}, {"confirm": False}):
        status, answer = merchant_api.post(f"/merchant/orders/{old.order_no}/recover", body)
        assert status == 422 and answer["error"]["code"] == "confirmation_required"
        assert "confirm" in answer["error"]["details"]["fields"]
    assert not Order.objects.filter(recovered_from=old).exists()


def test_recovering_twice_is_409_already_recovered(sku, place_order, merchant_api):
    old = _expired_order(place_order, sku)
    assert merchant_api.post(f"/merchant/orders/{old.order_no}/recover", {"confirm": True})[0] == 201
    status, body = merchant_api.post(f"/merchant/orders/{old.order_no}/recover", {"confirm": True})
    assert status == 409 and body["error"]["code"] == "already_recovered"
    assert Order.objects.filter(recovered_from=old).count() == 1
    assert stock_of(sku)["locked"] == 2


def test_recovery_after_the_window_is_422(sku, place_order, merchant_api):
    old = _expired_order(place_order, sku)
    Order.objects.filter(pk=old.pk).update(cancelled_at=timezone.now() - settings.ORDER_RECOVERY_WINDOW - timedelta(minutes=1))
    status, body = merchant_api.post(f"/merchant/orders/{old.order_no}/recover", {"confirm": True})
    assert status == 422 and body["error"]["code"] == "recovery_window_passed"
    assert stock_of(sku)["locked"] == 0


def test_recovery_with_too_little_stock_names_the_lines_and_writes_nothing(sku, place_order, merchant_api):
    old = _expired_order(place_order, sku)
    StockLevel.objects.filter(sku=sku).update(available=1)
    status, body = merchant_api.post(f"/merchant/orders/{old.order_no}/recover", {"confirm": True})
    assert status == 409 and body["error"]["code"] == "out_of_stock"
    assert body["error"]["details"]["lines"] == [{"sku_id": sku.pk, "sku_code": sku.code, "name": "蜂蜜柚子茶", "requested": 2}]
    assert not Order.objects.filter(recovered_from=old).exists()
    assert stock_of(sku) == {"available": 1, "locked": 0, "occupied": 0}


def test_a_paid_or_open_order_is_not_recoverable(sku, place_order, pay, merchant_api):
    placed = place_order((sku, 1))
    status, body = merchant_api.post(f"/merchant/orders/{placed['order_no']}/recover", {"confirm": True})
    assert status == 422 and body["error"]["code"] == "not_recoverable"


def test_an_order_the_buyer_cancelled_is_not_recoverable(sku, place_order, buyer_api, merchant_api):
    placed = place_order((sku, 2))
    assert buyer_api.post(f"/orders/{placed['order_no']}/cancel", {"reason": "不想要了"})[0] == 200
    status, body = merchant_api.post(f"/merchant/orders/{placed['order_no']}/recover", {"confirm": True})
    assert status == 422
    assert body["error"]["code"] == "not_recoverable"
    assert "买家主动取消" in body["error"]["message"]
    assert body["error"]["details"]["cancelled_by"] == "buyer"
    assert not Order.objects.filter(recovered_from__order_no=placed["order_no"]).exists()
    assert stock_of(sku)["locked"] == 0


def test_an_order_cancelled_by_the_clock_after_a_failed_payment_is_recoverable(sku, place_order, buyer_api, api, merchant_api):
    placed = place_order((sku, 2))
    _s, payment = buyer_api.post(f"/orders/{placed['order_no']}/payments", {"channel": "wechat"})
    body = callback_body(payment, txn="WX-FAILED", status="failed", reason="insufficient_balance")
    assert api.post("/callbacks/payment", raw=body, headers=signed_headers(body, settings.PAYMENT_CALLBACK_SECRET))[0] == 200
    old = Order.objects.get(order_no=placed["order_no"])
    order_pay_timeout(now=old.pay_deadline + timedelta(seconds=1), ids=[old.pk])
    old.refresh_from_db()
    assert (old.status, old.cancelled_by) == (OrderStatus.CANCELLED, "system")

    status, answer = merchant_api.post(f"/merchant/orders/{old.order_no}/recover", {"confirm": True})
    assert status == 201, answer
    assert answer["recovered_from"] == old.order_no
    assert stock_of(sku)["locked"] == 2


def test_another_shop_cannot_recover(sku, place_order):
    old = _expired_order(place_order, sku)
    other = ApiClient(make_member(make_shop(), username="other").api_token.key)
    status, _body = other.post(f"/merchant/orders/{old.order_no}/recover", {"confirm": True})
    assert status == 404
    assert not Order.objects.filter(recovered_from=old).exists()

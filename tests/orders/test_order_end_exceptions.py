"""An order that ends (closed, completed, cancelled) settles its open exceptions: nothing is escalated after the order is over."""
from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from orders.constants import ExceptionKind, OrderStatus
from orders.models import Order, OrderException
from orders.services.refunds_create import RefundClaim, refunds_create_many
from shop_admin.kernel.actors import Actor
from tests.factories import make_sku
from tests.orders.exception_helpers import paid_order


def sweep(at) -> str:
    out = StringIO()
    call_command("sweep_deadlines", "--at", at.isoformat(), stdout=out)
    return out.getvalue()


def large_paid_order(shop, place_order, pay) -> tuple[Order, OrderException]:
    """A paid order over the risk threshold: its risk_review exception is open, due at the ship-by."""
    sku = make_sku(shop, price="6000.00")
    order = paid_order(sku=sku, place_order=place_order, pay=pay)
    return order, OrderException.objects.get(order=order, kind=ExceptionKind.RISK_REVIEW, status="open")


def test_refunding_an_order_in_full_resolves_its_risk_review_and_it_is_never_escalated(shop, place_order, pay, console):
    # given: a large paid order with its risk review still open
    order, exception = large_paid_order(shop, place_order, pay)
    assert exception.deadline is not None
    # when: the merchant refunds it in full from the order page (the order closes)
    response = console.post(f"/orders/{order.order_no}/close/", {"reason": "买家要求退款", "confirm": "on"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    # then: the exception is resolved with the order's end and the reason, and the timeline says so once
    exception.refresh_from_db()
    assert exception.status == "resolved" and exception.resolved_at is not None
    assert "交易关闭" in exception.resolution_text and "买家要求退款" in exception.resolution_text
    events = order.events.filter(kind="exception_resolved", data__exception_id=exception.pk)
    assert events.count() == 1 and events.get().reason == exception.resolution
    assert not order.on_hold
    # and: the sweep past its deadline escalates nothing
    assert "exception_deadline_passed: 0" in sweep(exception.deadline + timedelta(days=9))
    exception.refresh_from_db()
    assert exception.escalated_at is None
    assert not order.events.filter(kind="exception_escalated").exists()


def test_the_progress_bar_dates_a_closed_order_by_its_close_event_not_its_last_change(shop, place_order, pay, console):
    # given: an order closed, then its row touched days later (a ruling, a note)
    order, _exception = large_paid_order(shop, place_order, pay)
    console.post(f"/orders/{order.order_no}/close/", {"reason": "买家要求退款", "confirm": "on"})
    closed_at = order.events.get(kind="transition", to_status=OrderStatus.CLOSED).created_at
    Order.objects.filter(pk=order.pk).update(updated_at=closed_at + timedelta(days=9))
    # when: the merchant opens the order
    page = console.get(f"/orders/{order.order_no}/").content.decode()
    # then: the progress bar's exit shows the day it closed
    exit_step = page[page.index('class="step exit"'):]
    exit_step = exit_step[: exit_step.index("</li>")]
    assert timezone.localtime(closed_at).strftime("%m-%d %H:%M") in exit_step
    assert timezone.localtime(closed_at + timedelta(days=9)).strftime("%m-%d") not in exit_step


def test_a_cancelled_order_settles_its_address_anomaly_but_a_payment_anomaly_stays_open(shop, sku, place_order, buyer_api):
    # given: an unpaid order with an address anomaly and a payment anomaly open
    body = place_order((sku, 1))
    order = Order.objects.get(order_no=body["order_no"])
    address = OrderException.objects.create(order=order, shop=shop, kind=ExceptionKind.ADDRESS_ANOMALY, detail="缺少门牌号")
    payment = OrderException.objects.create(order=order, shop=shop, kind=ExceptionKind.PAYMENT_ANOMALY, detail="金额不符")
    # when: the buyer cancels it
    status, result = buyer_api.post(f"/orders/{order.order_no}/cancel", {"reason": "不想要了"})
    assert status == 200, result
    # then: the address anomaly ends with the order; money still owed keeps the payment anomaly open
    address.refresh_from_db()
    payment.refresh_from_db()
    assert address.status == "resolved" and "已取消" in address.resolution_text and "不想要了" in address.resolution_text
    assert payment.status == "open"
    assert order.events.filter(kind="exception_resolved", data__exception_id=address.pk).count() == 1


def test_the_pay_timeout_sweep_settles_the_exceptions_of_every_order_it_cancels(shop, sku, place_order):
    # given: two unpaid orders, each with an open address anomaly
    orders = [Order.objects.get(order_no=place_order((sku, 1))["order_no"]) for _ in range(2)]
    opened = [
        OrderException.objects.create(order=o, shop=shop, kind=ExceptionKind.ADDRESS_ANOMALY, detail="缺少门牌号") for o in orders
    ]
    # when: the sweep runs past their pay window
    assert "order_pay_timeout: 2" in sweep(max(o.pay_deadline for o in orders) + timedelta(minutes=1))
    # then: both are resolved, one event each
    for exception in opened:
        exception.refresh_from_db()
        assert exception.status == "resolved" and exception.resolved_by_label
        assert exception.order.events.filter(kind="exception_resolved").count() == 1


def test_a_batch_refund_that_closes_orders_settles_their_exceptions_set_wise(shop, place_order, pay):
    # given: two large paid orders (douyin_pay), each with its risk review open
    pairs = [large_paid_order(shop, place_order, pay) for _ in range(2)]
    claims = [
        RefundClaim(order_id=o.pk, amount=o.paid_amount, lines={ln.pk: ln.quantity for ln in o.lines.all()}, source="test")
        for o, _e in pairs
    ]
    # when: a sweep's batch refunds both in full
    made = refunds_create_many(claims=claims, actor=Actor.system("test"), reason="售后超时自动退款")
    assert {m.order_status for m in made.values()} == {OrderStatus.CLOSED}
    # then: each exception is resolved with the reason, one event each, and the holds are gone
    for order, exception in pairs:
        exception.refresh_from_db()
        order.refresh_from_db()
        assert exception.status == "resolved" and "售后超时自动退款" in exception.resolution_text
        assert order.events.filter(kind="exception_resolved", data__exception_id=exception.pk).count() == 1
        assert not order.on_hold


def test_a_cancel_refund_remedy_keeps_its_own_record_when_it_closes_the_order(shop, place_order, pay, merchant_api):
    # given: a large paid order whose risk review the merchant settles by cancelling and refunding
    order, exception = large_paid_order(shop, place_order, pay)
    status, body = merchant_api.post(f"/merchant/exceptions/{exception.pk}/resolve", {"remedy": "cancel_refund", "note": "买家同意取消"})
    # then: the remedy is what resolved it (not the order's end), once
    assert status == 200, body
    exception.refresh_from_db()
    assert exception.remedy == "cancel_refund" and exception.note == "买家同意取消"
    assert order.events.filter(kind="exception_resolved", data__exception_id=exception.pk).count() == 1

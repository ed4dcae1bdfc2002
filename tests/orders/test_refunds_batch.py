"""Refunds many at once (a sweep's batch): only the common shape, the rest handed back for refund_create to say why."""
from decimal import Decimal

from orders.models import LedgerEntry, Order, OrderEvent, Refund, RefundLine, StockLevel
from orders.services.refunds import refund_create
from orders.services.refunds_batch import RefundClaim, refunds_create_many
from shop_admin.kernel.actors import Actor

SWEEP = Actor.system("aftersale_reply_timeout")


def paid_order(place_order, pay, sku, *, channel="douyin_pay", quantity=2) -> Order:
    placed = place_order((sku, quantity))
    pay(placed["order_no"], channel=channel)
    return Order.objects.get(order_no=placed["order_no"])


def claim(order: Order, amount: str, quantity: int | None = None) -> RefundClaim:
    line = order.lines.get()
    return RefundClaim(order_id=order.pk, amount=Decimal(amount), lines={line.pk: quantity or line.quantity}, source=f"test:{order.pk}")


def test_the_common_shape_is_refunded_closed_and_released_in_one_go(place_order, pay, sku):
    whole, part = paid_order(place_order, pay, sku), paid_order(place_order, pay, sku)
    made = refunds_create_many(claims=[claim(whole, "119.80"), claim(part, "59.90", quantity=1)], actor=SWEEP, reason="超时")
    assert set(made) == {whole.pk, part.pk}
    assert made[whole.pk].order_status == "closed" and made[part.pk].order_status == "paid"
    assert Order.objects.get(pk=whole.pk).status == "closed" and Order.objects.get(pk=part.pk).status == "paid"
    for order, amount in ((whole, "119.80"), (part, "59.90")):
        refund = Refund.objects.get(order=order)
        assert refund.pk == made[order.pk].refund_id and refund.amount == Decimal(amount) and refund.status == "succeeded"
        assert LedgerEntry.objects.get(refund=refund, kind="refund_out").amount == Decimal(amount)
        assert RefundLine.objects.get(refund=refund).amount == Decimal(amount)
    kinds = list(OrderEvent.objects.filter(order=whole, kind__in=["refund_created", "refund_succeeded", "transition"]).order_by("pk")
                 .values_list("kind", flat=True))
    assert kinds[-3:] == ["refund_created", "refund_succeeded", "transition"]
    # the whole order's 2 units are on sale again; the partial claim of 1 of 2 units keeps its occupation
    level = StockLevel.objects.get(sku=sku)
    assert (level.available, level.occupied) == (98, 2)


def test_anything_else_is_handed_back_untouched(place_order, pay, sku):
    callback = paid_order(place_order, pay, sku, channel="wechat")  # the channel answers later: refund_create's job
    earlier = paid_order(place_order, pay, sku)
    refund_create(order=earlier, amount=Decimal("10.00"), actor=SWEEP, reason="部分退款")  # already refunded once
    too_much = paid_order(place_order, pay, sku)
    events = OrderEvent.objects.count()
    made = refunds_create_many(
        claims=[claim(callback, "119.80"), claim(earlier, "50.00"), claim(too_much, "119.81")], actor=SWEEP, reason="超时"
    )
    assert made == {}
    assert Refund.objects.filter(order__in=[callback, too_much]).count() == 0 and Refund.objects.filter(order=earlier).count() == 1
    assert OrderEvent.objects.count() == events

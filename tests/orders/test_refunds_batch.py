"""Refunds many at once (a sweep's batch) through the one refund path that refund_create runs as a batch of one."""
from decimal import Decimal

import pytest

from orders.models import LedgerEntry, Order, OrderEvent, Refund, RefundLine, StockLevel
from orders.services.refunds import refund_create
from orders.services.refunds_create import RefundClaim, refunds_create_many
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import Invalid

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


def test_every_shape_goes_the_one_way_and_a_refused_claim_is_handed_back_untouched(place_order, pay, sku):
    callback = paid_order(place_order, pay, sku, channel="wechat")  # the channel answers later: the refund waits for it
    earlier = paid_order(place_order, pay, sku)
    refund_create(order=earlier, amount=Decimal("10.00"), actor=SWEEP, reason="部分退款")  # already refunded once
    too_much = paid_order(place_order, pay, sku)
    events = OrderEvent.objects.filter(order=too_much).count()
    refused = {}
    made = refunds_create_many(
        claims=[claim(callback, "119.80"), claim(earlier, "50.00"), claim(too_much, "119.81")], actor=SWEEP, reason="超时",
        refused=refused,
    )
    assert set(made) == {callback.pk, earlier.pk}
    assert list(refused) == [too_much.pk] and refused[too_much.pk].code == "refund_exceeds_paid"
    pending = Refund.objects.get(pk=made[callback.pk].refund_id)
    assert pending.status == "pending" and pending.channel == "wechat" and not LedgerEntry.objects.filter(refund=pending).exists()
    assert made[callback.pk].order_status == "closed"  # all that is held is owed back: the order closes as refund_create closes it
    assert Refund.objects.filter(order=earlier).count() == 2 and made[earlier.pk].order_status == "paid"
    assert not Refund.objects.filter(order=too_much).exists() and OrderEvent.objects.filter(order=too_much).count() == events


def test_without_refused_a_claim_the_rules_refuse_raises_and_writes_nothing(place_order, pay, sku):
    order = paid_order(place_order, pay, sku)
    with pytest.raises(Invalid) as refusal:
        refunds_create_many(claims=[claim(order, "119.81")], actor=SWEEP, reason="超时")
    assert refusal.value.details["lines"][0]["refundable"] == "119.80"
    assert not Refund.objects.filter(order=order).exists()

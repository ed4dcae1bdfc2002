"""Order recovery (订单召回): an order cancelled for non-payment, not by its buyer, comes back as a new order with its stock and coupon."""
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.constants import OrderKind, OrderStatus
from orders.events import order_recovered_event, order_submitted_event
from orders.models import CouponRedemption, Order, OrderLine
from orders.services.common import order_counts_changed, order_lock
from orders.services.stock import stock_lock_lines
from orders.services.submit import order_no_generate
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.constants import ActorKind
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.errors import Conflict, Invalid
from shop_admin.kernel.shoprules import shop_rule
from shop_admin.kernel.text import join_list

# The columns a recovered order copies from the cancelled one: what the buyer chose and what it costs.
_COPIED = (
    "shop_id", "buyer_id", "kind", "items_total", "coupon_discount", "full_reduction", "freight", "subsidy", "payable",
    "deposit_amount", "freight_insurance", "recipient_name", "phone", "province", "city", "district", "address_detail",
    "is_remote", "buyer_message", "merchant_remark", "remark_flag", "balance_deadline",
)


def recovery_window_ends(order: Order) -> datetime | None:
    return order.cancelled_at + shop_rule(order.shop_id, "recovery_window") if order.cancelled_at else None


def recovery_refusal(order: Order, *, now: datetime) -> Invalid | None:
    """Why this order cannot be recovered by the rules (not the stock), or None."""
    if order.status != OrderStatus.CANCELLED or order.paid_amount or order.cancelled_at is None:
        return Invalid(
            _("只有未支付而取消的订单可以召回"), code="not_recoverable", details={"status": order.status}
        )
    if order.cancelled_by == ActorKind.BUYER:
        # The buyer changed their mind; a new order with a payment link would only be an unwanted nudge.
        return Invalid(
            _("买家主动取消了该订单，不能召回：召回只适用于超时未支付或支付失败的订单"),
            code="not_recoverable",
            details={"status": order.status, "cancelled_by": order.cancelled_by},
        )
    ends = recovery_window_ends(order)
    if now > ends:
        window_hours = (ends - order.cancelled_at).total_seconds() // 3600
        return Invalid(
            _("已超过召回时限（取消后%(hours)d小时内）") % {"hours": window_hours},
            code="recovery_window_passed",
            details={"cancelled_at": order.cancelled_at.isoformat(), "window_hours": window_hours},
        )
    return None


def order_recover(*, order: Order, actor: Actor, confirm: bool) -> Order:
    """Recover a cancelled unpaid order: a new number and pay deadline, stock locked again, the coupon carried over.

    A sensitive change: refused without the second confirmation; audited on both orders.
    """
    if not confirm:
        raise Invalid(
            _("召回订单需要二次确认"), code="confirmation_required", details={"fields": {"confirm": _("请确认召回（confirm: true）")}}
        )
    with transaction.atomic():
        old = order_lock(order.pk)
        if Order.objects.filter(recovered_from=old).exists():
            new_no = Order.objects.filter(recovered_from=old).values_list("order_no", flat=True).first()
            raise Conflict(_("该订单已召回为%(no)s") % {"no": new_no}, code="already_recovered", details={"recovered_to": new_no})
        now = timezone.now()
        refusal = recovery_refusal(old, now=now)
        if refusal:
            raise refusal
        window = settings.ORDER_PAY_WINDOW_VIRTUAL if old.kind == OrderKind.VIRTUAL else settings.ORDER_PAY_WINDOW
        new = Order(**{field: getattr(old, field) for field in _COPIED})
        new.recovered_from = old
        new.created_at = now
        new.pay_deadline = now + window
        for _attempt in range(5):
            new.order_no = order_no_generate(buyer_id=old.buyer_id, kind=old.kind, at=now)
            try:
                with transaction.atomic():
                    new.save(force_insert=True)
                break
            except IntegrityError:
                # The one-to-one on recovered_from: a concurrent recovery of the same order got there first.
                if Order.objects.filter(recovered_from=old).exists():
                    raise Conflict(_("该订单已召回"), code="already_recovered") from None
                if not Order.objects.filter(order_no=new.order_no).exists():
                    raise
        lines = [
            OrderLine(
                order=new,
                sku_id=ln.sku_id,
                quantity=ln.quantity,
                unit_price=ln.unit_price,
                line_total=ln.line_total,
                sku_code=ln.sku_code,
                product_name=ln.product_name,
                spec=ln.spec,
                product_snapshot=ln.product_snapshot,
            )
            for ln in old.lines.order_by("pk")
        ]
        short = stock_lock_lines(lines, province=old.province)
        if short:
            raise Conflict(
                _("库存不足，无法召回：%(names)s") % {"names": join_list(f"{ln.product_name} {ln.spec}".strip() for ln in short)},
                code="out_of_stock",
                details={
                    "lines": [
                        {"sku_id": ln.sku_id, "sku_code": ln.sku_code, "name": ln.product_name, "requested": ln.quantity}
                        for ln in short
                    ]
                },
            )
        OrderLine.objects.bulk_create(lines)
        # The coupon the buyer used comes back with the order, at the amount it took off, whatever it says today.
        CouponRedemption.objects.bulk_create(
            [
                CouponRedemption(coupon_id=r.coupon_id, buyer_id=r.buyer_id, order=new, amount=r.amount)
                for r in old.coupon_redemptions.all()
            ]
        )
        order_submitted_event(order=new, actor=actor)
        order_recovered_event(order=new, actor=actor, old=old, new=new)
        order_recovered_event(order=old, actor=actor, old=old, new=new)
        Order.objects.filter(pk=old.pk).update(updated_at=now)
        deadline_schedule(name="order_pay_timeout", pk=new.pk, at=new.pay_deadline)
        order_counts_changed(shop_ids={new.shop_id})
    return new


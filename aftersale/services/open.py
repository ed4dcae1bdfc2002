"""Opening a case: which lines and how many units, how much money, one open case per line, within the after-sale window."""
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersale.constants import REFUND_TYPES, RETURN_TYPES, AfterSaleType
from aftersale.events import aftersale_opened_event
from aftersale.models import AfterSaleCase, AfterSaleLine
from aftersale.services.common import lines_held, message_add
from aftersale.services.rules import rule_wake_schedule
from orders.constants import OrderKind, OrderStatus
from orders.models import Order, OrderLine
from orders.services.common import order_lock
from orders.services.lifecycle import order_auto_confirm_pause
from orders.services.refundable import order_lines_refundable, order_refundable_total
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.errors import Conflict, Invalid
from shop_admin.kernel.shoprules import shop_rule

ZERO = Decimal("0.00")
OPEN_FROM = {OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED, OrderStatus.REJECTED}
# Goods must have left the warehouse before they can come back, be exchanged, repaired or found missing.
NEEDS_SHIPMENT = RETURN_TYPES | {AfterSaleType.RESHIP}


@dataclass(frozen=True)
class ItemClaim:
    sku_id: int
    quantity: int


def is_fragile(order: Order) -> bool:
    return order.kind == OrderKind.FRESH or order.lines.filter(sku__product__is_fragile=True).exists()


def reply_window(order: Order, *, fragile: bool | None = None):
    """The shop's window to answer (platform: at most 24 h); fresh or fragile goods its shorter one (at most 12 h)."""
    fragile = is_fragile(order) if fragile is None else fragile
    return shop_rule(order.shop_id, "aftersale_reply_fragile" if fragile else "aftersale_reply")


def _claimed_lines(order: Order, items: list[ItemClaim] | None) -> list[tuple[OrderLine, int]]:
    lines = list(order.lines.order_by("pk"))
    if not items:
        return [(line, line.quantity) for line in lines]
    by_sku = {}
    for line in lines:
        by_sku.setdefault(line.sku_id, line)
    claimed, errors, seen = [], {}, set()
    for index, item in enumerate(items):
        line = by_sku.get(item.sku_id)
        if line is None:
            errors[f"items.{index}.sku_id"] = _("订单中没有该商品（sku_id %(id)s）") % {"id": item.sku_id}
        elif item.sku_id in seen:
            errors[f"items.{index}.sku_id"] = _("同一商品只能出现一次")
        elif not 1 <= item.quantity <= line.quantity:
            errors[f"items.{index}.quantity"] = _("%(name)s 最多可申请%(n)d件") % {"name": line.product_name, "n": line.quantity}
        else:
            claimed.append((line, item.quantity))
        seen.add(item.sku_id)
    if errors:
        raise Invalid(_("售后商品有误"), code="invalid_input", details={"fields": errors})
    return claimed


def _check_window(order: Order, case_type: str, now) -> None:
    if order.status not in OPEN_FROM:
        raise Conflict(
            _("订单状态为「%(status)s」，不能申请售后") % {"status": order.get_status_display()},
            code="invalid_transition",
            details={"status": order.status},
        )
    if order.status == OrderStatus.PAID and case_type in NEEDS_SHIPMENT:
        raise Conflict(
            _("订单尚未发货，只能申请仅退款"), code="invalid_transition", details={"status": order.status, "fields": {"type": case_type}}
        )
    if order.status == OrderStatus.COMPLETED and order.completed_at:
        closes = order.completed_at + settings.AFTERSALE_WINDOW
        if now > closes:
            raise Conflict(
                _("已超过售后期限：确认收货后%(days)d天内可申请，已于%(date)s截止")
                % {"days": settings.AFTERSALE_WINDOW.days, "date": timezone.localtime(closes).strftime("%Y-%m-%d %H:%M")},
                code="aftersale_window_closed",
                details={"window_closed_at": timezone.localtime(closes).isoformat()},
            )


def _claim_amount(order: Order, claimed: list[tuple[OrderLine, int]], amount: Decimal | None) -> Decimal:
    """The money a refund case asks for: default all that is left for those units; never more (422 naming the lines)."""
    by_line = {lr.line.pk: lr for lr in order_lines_refundable(order=order)}
    caps = [(line, by_line[line.pk].cap(quantity)) for line, quantity in claimed]
    limit = min(sum((cap for _line, cap in caps), ZERO), order_refundable_total(order=order))
    if amount is None:
        amount = limit
    if amount <= 0 or amount > limit:
        raise Invalid(
            _("申请金额须在0.01到可退金额%(limit)s元之间") % {"limit": limit},
            code="amount_exceeds_refundable",
            details={
                "fields": {"amount": _("最多可退%(limit)s元") % {"limit": limit}},
                "lines": [
                    {"sku_id": line.sku_id, "sku_code": line.sku_code, "product_name": line.product_name, "refundable": f"{cap:.2f}"}
                    for line, cap in caps
                ],
            },
        )
    return amount


def aftersale_open(
    *,
    order: Order,
    actor: Actor,
    case_type: str,
    reason: str,
    description: str = "",
    amount: Decimal | None = None,
    evidence: list[str] | None = None,
    items: list[ItemClaim] | None = None,
) -> AfterSaleCase:
    """The buyer asks for an after-sale on some lines (default: the whole order); the merchant's reply clock starts."""
    if case_type not in AfterSaleType.values:
        raise Invalid(_("不支持的售后类型"), code="invalid_input", details={"fields": {"type": case_type}})
    if not (reason or "").strip():
        raise Invalid(_("请填写售后原因"), code="invalid_input", details={"fields": {"reason": _("不能为空")}})
    with transaction.atomic():
        order = order_lock(order.pk)
        now = timezone.now()
        _check_window(order, case_type, now)
        claimed = _claimed_lines(order, items)
        if case_type in REFUND_TYPES:
            amount = _claim_amount(order, claimed, amount)
        else:
            amount = None  # exchange, repair and reship end in goods, not money
        fragile = is_fragile(order)
        window = reply_window(order, fragile=fragile)
        case = AfterSaleCase.objects.create(
            order=order, shop_id=order.shop_id, buyer_id=order.buyer_id, type=case_type, reason=reason.strip()[:100],
            description=description or "", amount=amount, evidence=evidence or [], is_fragile=fragile,
            reply_deadline=now + window, due_at=now + window,
        )
        with lines_held(case_ids=[case.pk], line_ids=[line.pk for line, _q in claimed]):
            AfterSaleLine.objects.bulk_create([AfterSaleLine(case=case, line=line, quantity=quantity) for line, quantity in claimed])
        if description or evidence:
            message_add(case, actor, body=description or reason, evidence=evidence)
        aftersale_opened_event(
            case=case, actor=actor, lines=[{"line_id": line.pk, "sku_id": line.sku_id, "quantity": q} for line, q in claimed]
        )
        order_auto_confirm_pause(order=order, actor=actor, reason=gettext_noop("售后处理中，暂停自动确认收货"))
        deadline_schedule(name="aftersale_reply_timeout", pk=case.pk, at=case.reply_deadline)
        rule_wake_schedule(case=case)
    return case

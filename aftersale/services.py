"""After-sale actions: opening a case with its reply deadline, and the clock approving an unanswered one.

Review by the merchant, returns, refunds and arbitration come with the after-sale wave.
"""
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersale.constants import RETURN_TYPES, AfterSaleStatus, AfterSaleType
from aftersale.events import aftersale_auto_approved_event, aftersale_opened_event
from aftersale.models import AfterSaleCase
from orders.constants import OrderKind, OrderStatus
from orders.models import Order
from orders.services.common import order_lock
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.errors import Conflict, Invalid

OPEN_FROM = {OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED, OrderStatus.REJECTED}


def reply_window(order: Order):
    """24 h to answer; 12 h for fresh or fragile goods."""
    fragile = order.kind == OrderKind.FRESH or order.lines.filter(sku__product__is_fragile=True).exists()
    return settings.AFTERSALE_REPLY_WINDOW_FRAGILE if fragile else settings.AFTERSALE_REPLY_WINDOW


def aftersale_open(
    *, order: Order, actor: Actor, case_type: str, reason: str, description: str = "", amount: Decimal | None = None,
    evidence: list[str] | None = None,
) -> AfterSaleCase:
    if case_type not in AfterSaleType.values:
        raise Invalid(_("不支持的售后类型"), code="invalid_input", details={"fields": {"type": case_type}})
    if not reason.strip():
        raise Invalid(_("请填写售后原因"), code="invalid_input", details={"fields": {"reason": _("不能为空")}})
    with transaction.atomic():
        order = order_lock(order.pk)
        now = timezone.now()
        if order.status not in OPEN_FROM:
            raise Conflict(
                _("订单状态为「%(status)s」，不能申请售后") % {"status": order.get_status_display()},
                code="invalid_transition",
                details={"status": order.status},
            )
        if order.status == OrderStatus.COMPLETED and order.completed_at and now > order.completed_at + settings.AFTERSALE_WINDOW:
            raise Conflict(_("已超过售后期限"), code="aftersale_window_closed")
        if amount is not None and not (Decimal("0.01") <= amount <= order.paid_amount):
            raise Invalid(
                _("申请金额须在0.01到实付金额%(paid)s之间") % {"paid": order.paid_amount},
                code="invalid_input",
                details={"fields": {"amount": str(amount)}},
            )
        case = AfterSaleCase.objects.create(
            order=order, shop_id=order.shop_id, buyer_id=order.buyer_id, type=case_type, reason=reason[:100],
            description=description, amount=amount, evidence=evidence or [], reply_deadline=now + reply_window(order),
        )
        aftersale_opened_event(case=case, actor=actor)
        deadline_schedule(name="aftersale_reply_timeout", pk=case.pk, at=case.reply_deadline)
    return case


def aftersale_reply_timeout(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline: the merchant did not answer in time, so the platform approves the buyer's claim.

    Return types wait for the buyer's parcel; refund-only and reship cases are approved and
    wait for the refund or reship of the after-sale wave.
    """
    with transaction.atomic():
        queryset = AfterSaleCase.objects.filter(status=AfterSaleStatus.REQUESTED, reply_deadline__lte=now).order_by("reply_deadline")
        if ids is not None:
            queryset = queryset.filter(pk__in=ids)
        due = list(queryset.select_for_update(skip_locked=True).select_related("order")[: settings.SWEEP_BATCH_SIZE])
        actor = Actor.system("aftersale_reply_timeout")
        for case in due:
            case.approve_return() if case.type in RETURN_TYPES else case.approve()
            case.save()
            aftersale_auto_approved_event(case=case, actor=actor)
        return len(due)

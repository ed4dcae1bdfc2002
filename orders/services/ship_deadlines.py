"""The ship deadline of a paid order: past it, fresh produce is refunded automatically and anything else opens paid_not_shipped.

`ship_deadline` is set at payment (SHIP_DEADLINE, FRESH_SHIP_DEADLINE, presale days);
shipping ends it, and resolves a paid_not_shipped exception it raised.
"""
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from orders.constants import ExceptionKind, OrderKind, OrderStatus
from orders.models import Order, OrderException
from orders.services.exceptions import exception_open
from orders.services.lifecycle import order_refund_close
from shop_admin.kernel.actors import Actor


def order_ship_due(now: datetime) -> QuerySet:
    """Paid orders past their ship deadline that the kind still has to act on."""
    flagged = OrderException.objects.filter(order_id=OuterRef("pk"), kind=ExceptionKind.PAID_NOT_SHIPPED)
    # Once raised (open or already answered by the merchant), a late order is not raised again.
    return Order.objects.filter(status=OrderStatus.PAID, ship_deadline__lte=now).exclude(~Q(kind=OrderKind.FRESH) & Exists(flagged))


def order_ship_timeout(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline: paid orders past their ship deadline. Fresh: refunded and closed; others: exception paid_not_shipped (once)."""
    with transaction.atomic():
        due = order_ship_due(now).order_by("ship_deadline")
        if ids is not None:
            due = due.filter(pk__in=ids)
        orders = list(due.select_for_update(skip_locked=True)[: settings.SWEEP_BATCH_SIZE])
        actor = Actor.system("order_ship_timeout")
        for order in orders:
            if order.kind == OrderKind.FRESH:
                hours = settings.FRESH_SHIP_DEADLINE.total_seconds() / 3600
                order_refund_close(order=order, actor=actor, reason=_("生鲜订单超过%(hours)g小时未发货，系统自动退款") % {"hours": hours})
            else:
                exception_open(
                    order=order,
                    kind=ExceptionKind.PAID_NOT_SHIPPED,
                    actor=actor,
                    detail=gettext_noop("已支付未发货：发货截止 %(deadline)s 已过"),
                    detail_params={"deadline": timezone.localtime(order.ship_deadline).strftime("%Y-%m-%d %H:%M")},
                    data={"ship_deadline": timezone.localtime(order.ship_deadline).isoformat(), "paid_at": timezone.localtime(order.paid_at).isoformat() if order.paid_at else None},
                )
        return len(orders)


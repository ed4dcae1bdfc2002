"""Orders' kinds of the deadline queue: the ship-by of paid orders, exception deadlines, recovery windows closing.

Each is one bounded range on an index of its table (`order_ship_due`, `exception_open_deadline`, `order_recovery_open`).
"""
from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from orders.constants import ExceptionKind, ExceptionStatus, OrderStatus
from orders.models import Order, OrderException
from shop_admin.kernel.constants import ActorKind
from shop_admin.kernel.deadline_queue import QueueKind, QueueRow, deadline_queue_register, queue_rows
from shop_admin.kernel.permissions import Perm


def ship_queue_rows(*, shop_ids: set[int], now: datetime, until: datetime, after, limit: int) -> list[QueueRow]:
    """Paid orders by their ship-by."""
    orders = queue_rows(
        Order.objects.filter(shop_id__in=shop_ids, status=OrderStatus.PAID, ship_deadline__isnull=False),
        due="ship_deadline", until=until, after=after,
    ).values("pk", "shop_id", "order_no", "ship_deadline")[:limit]
    return [
        QueueRow(kind="ship", shop_id=o["shop_id"], pk=o["pk"], due_at=o["ship_deadline"], order_no=o["order_no"], detail="", url=f"/orders/{o['order_no']}/")
        for o in orders
    ]


def exception_queue_rows(*, shop_ids: set[int], now: datetime, until: datetime, after, limit: int) -> list[QueueRow]:
    """Open exceptions by their deadline (an escalated one stays the merchant's to resolve)."""
    labels = dict(ExceptionKind.choices)
    exceptions = queue_rows(
        OrderException.objects.filter(shop_id__in=shop_ids, status=ExceptionStatus.OPEN, deadline__isnull=False),
        due="deadline", until=until, after=after,
    ).values("pk", "shop_id", "kind", "deadline", "order__order_no")[:limit]
    return [
        QueueRow(
            kind="exception", shop_id=e["shop_id"], pk=e["pk"], due_at=e["deadline"], order_no=e["order__order_no"],
            detail=str(labels.get(e["kind"], e["kind"])), url=f"/exceptions/{e['pk']}/", exception_id=e["pk"],
        )
        for e in exceptions
    ]


def recovery_queue_rows(*, shop_ids: set[int], now: datetime, until: datetime, after, limit: int) -> list[QueueRow]:
    """Unpaid orders cancelled by the clock or a failed payment whose recovery window is still open, by when it closes.

    The same rules as `recovery_refusal`, as a filter: a window already closed is no longer the merchant's to act on.
    """
    window = settings.ORDER_RECOVERY_WINDOW
    orders = queue_rows(
        Order.objects.filter(
            shop_id__in=shop_ids, status=OrderStatus.CANCELLED, cancelled_at__gt=now - window, paid_amount=0,
            recovered_to__isnull=True,
        ).exclude(cancelled_by=ActorKind.BUYER),
        due="cancelled_at", until=until, after=after, shift=window,
    ).values("pk", "shop_id", "order_no", "cancelled_at")[:limit]
    return [
        QueueRow(kind="recovery", shop_id=o["shop_id"], pk=o["pk"], due_at=o["cancelled_at"] + window, order_no=o["order_no"], detail="", url=f"/orders/{o['order_no']}/")
        for o in orders
    ]


def orders_deadline_queue_register() -> None:
    deadline_queue_register(
        QueueKind(name="ship", label=_("发货截止"), rows=ship_queue_rows, action="ship", action_label=_("去发货"), perm=Perm.ORDER_SHIP)
    )
    deadline_queue_register(
        QueueKind(
            name="exception", label=_("异常处理时限"), rows=exception_queue_rows, action="resolve", action_label=_("去处理"),
            perm=Perm.ORDER_EDIT,
        )
    )
    deadline_queue_register(
        QueueKind(
            name="recovery", label=_("召回时限"), rows=recovery_queue_rows, action="recover", action_label=_("去召回"),
            perm=Perm.ORDER_MONEY,
        )
    )

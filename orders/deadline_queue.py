"""Orders' kinds of the deadline queue: the ship-by of paid orders, exception deadlines, recovery windows closing.

Each is one bounded range on a partial index of its table that ends in the id, read in its order: `order_ship_due`
(shop, ship_deadline, id), `exception_open_deadline` (shop, deadline, id), `order_recovery_open` (shop, cancelled_at, id).
"""
from datetime import datetime

from django.conf import settings
from django.db.models import DateTimeField, ExpressionWrapper, F
from django.utils.translation import gettext_lazy as _

from orders.constants import ExceptionKind, ExceptionStatus, OrderStatus
from orders.models import Order, OrderException
from shop_admin.kernel.constants import ActorKind
from shop_admin.kernel.deadline_queue import QueueKind, QueueRow, deadline_queue_register, queue_rows, queue_values
from shop_admin.kernel.permissions import Perm

_EXCEPTION_LABELS = dict(ExceptionKind.choices)


def ship_queue_select(*, shop_ids: set[int], now: datetime, until: datetime, after):
    """Paid orders by their ship-by."""
    orders = queue_rows(Order.objects.filter(shop_id__in=shop_ids, status=OrderStatus.PAID), due="ship_deadline", until=until, after=after)
    return queue_values(orders, due=F("ship_deadline"), order_no=F("order_no"))


def ship_queue_row(*, pk: int, shop_id: int, due_at: datetime, order_no: str, detail: str) -> QueueRow:
    return QueueRow(kind="ship", shop_id=shop_id, pk=pk, due_at=due_at, order_no=order_no, detail="", url=f"/orders/{order_no}/")


def exception_queue_select(*, shop_ids: set[int], now: datetime, until: datetime, after):
    """Open exceptions by their deadline (an escalated one stays the merchant's to resolve)."""
    exceptions = queue_rows(
        OrderException.objects.filter(shop_id__in=shop_ids, status=ExceptionStatus.OPEN), due="deadline", until=until, after=after
    )
    return queue_values(exceptions, due=F("deadline"), order_no=F("order__order_no"), detail=F("kind"))


def exception_queue_row(*, pk: int, shop_id: int, due_at: datetime, order_no: str, detail: str) -> QueueRow:
    return QueueRow(
        kind="exception", shop_id=shop_id, pk=pk, due_at=due_at, order_no=order_no, detail=str(_EXCEPTION_LABELS.get(detail, detail)),
        url=f"/exceptions/{pk}/", exception_id=pk,
    )


def recovery_queue_select(*, shop_ids: set[int], now: datetime, until: datetime, after):
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
    )
    return queue_values(orders, due=ExpressionWrapper(F("cancelled_at") + window, output_field=DateTimeField()), order_no=F("order_no"))


def recovery_queue_row(*, pk: int, shop_id: int, due_at: datetime, order_no: str, detail: str) -> QueueRow:
    return QueueRow(kind="recovery", shop_id=shop_id, pk=pk, due_at=due_at, order_no=order_no, detail="", url=f"/orders/{order_no}/")


def orders_deadline_queue_register() -> None:
    deadline_queue_register(
        QueueKind(
            name="ship", label=_("发货截止"), select=ship_queue_select, row=ship_queue_row, action="ship", action_label=_("去发货"),
            perm=Perm.ORDER_SHIP,
        )
    )
    deadline_queue_register(
        QueueKind(
            name="exception", label=_("异常处理时限"), select=exception_queue_select, row=exception_queue_row, action="resolve",
            action_label=_("去处理"), perm=Perm.ORDER_EDIT,
        )
    )
    deadline_queue_register(
        QueueKind(
            name="recovery", label=_("召回时限"), select=recovery_queue_select, row=recovery_queue_row, action="recover",
            action_label=_("去召回"), perm=Perm.ORDER_MONEY,
        )
    )

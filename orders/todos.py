"""Orders' to-dos for the console's bell: a new paid order, an exception raised, a ship deadline close.

Each source is one bounded range query on an index of its table (`order_shop_paid`, `exception_shop_status_opened`,
`order_ship_due`), newest first, at most `limit` rows.
"""
from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from orders.constants import ExceptionStatus, OrderStatus
from orders.models import Order, OrderException
from shop_admin.kernel.todos import TodoItem, TodoSource, deadline_todo_source, todo_key, todo_source_register


def paid_order_todos(*, shop_id: int, since: datetime, now: datetime, limit: int) -> list[TodoItem]:
    """Orders paid since `since` that still wait to be shipped."""
    orders = (
        Order.objects.filter(shop_id=shop_id, status=OrderStatus.PAID, paid_at__gt=since, paid_at__lte=now)
        .order_by("-paid_at", "-id")
        .values("pk", "order_no", "paid_at", "payable")[:limit]
    )
    return [
        TodoItem(
            key=todo_key("order_paid", o["pk"]),
            at=o["paid_at"],
            title=_("新的已支付订单"),
            detail=f"{o['order_no']} · ¥{o['payable']:,.2f}",
            url=reverse("orders:detail", args=[o["order_no"]]),
        )
        for o in orders
    ]


def _exception_todos(*, shop_id: int, key: str, moment: str, title, limit: int, **when) -> list[TodoItem]:
    """Open exceptions of the shop newest first by `moment` (a datetime column), filtered by `when`, as to-dos."""
    kinds = dict(OrderException._meta.get_field("kind").choices)
    exceptions = (
        OrderException.objects.filter(shop_id=shop_id, status=ExceptionStatus.OPEN, **when)
        .order_by(f"-{moment}", "-id")
        .values("pk", "kind", moment, "deadline", "order__order_no")[:limit]
    )
    return [
        TodoItem(
            key=todo_key(key, e["pk"]),
            at=e[moment],
            title=title,
            detail=f"{kinds.get(e['kind'], e['kind'])} · {e['order__order_no']}",
            url=reverse("exceptions:detail", args=[e["pk"]]),
            deadline=e["deadline"],
        )
        for e in exceptions
    ]


def exception_todos(*, shop_id: int, since: datetime, now: datetime, limit: int) -> list[TodoItem]:
    """Exceptions raised since `since` and still open."""
    return _exception_todos(shop_id=shop_id, key="exception", moment="opened_at", title=_("新的异常"), limit=limit, opened_at__gt=since)


def exception_escalated_todos(*, shop_id: int, since: datetime, now: datetime, limit: int) -> list[TodoItem]:
    """Exceptions still open past their deadline, escalated to the platform since `since`: the merchant is told."""
    return _exception_todos(
        shop_id=shop_id, key="exception_escalated", moment="escalated_at", title=_("异常超时，已升级平台"), limit=limit,
        escalated_at__gt=since, escalated_at__lte=now,
    )


def orders_todos_register() -> None:
    todo_source_register(TodoSource(name="order_paid", label=_("新的已支付订单"), items=paid_order_todos))
    todo_source_register(TodoSource(name="exception", label=_("新的异常"), items=exception_todos))
    todo_source_register(TodoSource(name="exception_escalated", label=_("异常超时升级平台"), items=exception_escalated_todos))
    # Paid orders whose ship deadline is within `TODO_DUE_SOON` (or passed, within the window) and not shipped.
    todo_source_register(
        deadline_todo_source(
            name="ship_due",
            label=_("发货即将超时"),
            rows=lambda shop_id: Order.objects.filter(shop_id=shop_id, status=OrderStatus.PAID),
            deadline="ship_deadline",
            detail="order_no",
            url=lambda o: reverse("orders:detail", args=[o["order_no"]]),
        )
    )

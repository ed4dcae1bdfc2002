"""What orders show on the dashboard: the tiles to act on, the nearest deadlines and the 30-day trend."""
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.core.cache import cache
from django.db.models import Q, QuerySet, Value
from django.utils import timezone

from orders.constants import ExceptionStatus, OrderStatus
from orders.daystats import order_day_rows, order_day_stats
from orders.models import (
    Order,
    OrderException,
)
from orders.selectors.listing import ship_due_q


def _order_tiles(*, shop_id: int, now: datetime) -> dict[str, QuerySet]:
    """What each of orders' dashboard tiles counts."""
    paid = Order.objects.filter(shop_id=shop_id, status=OrderStatus.PAID)
    return {
        "to_pay": Order.objects.filter(shop_id=shop_id, status=OrderStatus.PENDING_PAYMENT),
        "to_ship": paid,
        "ship_due_soon": Order.objects.filter(ship_due_q(due="soon", now=now), shop_id=shop_id),
        "ship_overdue": Order.objects.filter(ship_due_q(due="overdue", now=now), shop_id=shop_id),
        "risk_review": paid.filter(Q(needs_risk_review=True) | Q(is_frozen=True)),
    }


def orders_to_pay(*, shop_id: int, now: datetime) -> QuerySet[Order]:
    return _order_tiles(shop_id=shop_id, now=now)["to_pay"]


def orders_to_ship(*, shop_id: int, now: datetime) -> QuerySet[Order]:
    return _order_tiles(shop_id=shop_id, now=now)["to_ship"]


def orders_ship_due_soon(*, shop_id: int, now: datetime) -> QuerySet[Order]:
    return _order_tiles(shop_id=shop_id, now=now)["ship_due_soon"]


def orders_ship_overdue(*, shop_id: int, now: datetime) -> QuerySet[Order]:
    return _order_tiles(shop_id=shop_id, now=now)["ship_overdue"]


def orders_risk_review(*, shop_id: int, now: datetime) -> QuerySet[Order]:
    return _order_tiles(shop_id=shop_id, now=now)["risk_review"]


def exceptions_open(*, shop_id: int, now: datetime) -> QuerySet[OrderException]:
    return OrderException.objects.filter(shop_id=shop_id, status=ExceptionStatus.OPEN)


class DeadlineOrder(NamedTuple):
    """The order of a dashboard deadline, as the dashboard links it."""

    order_no: str


def dashboard_deadlines(*, shop_id: int, limit: int = 10) -> list[tuple[datetime, str, DeadlineOrder]]:
    """The nearest deadlines of the shop, closest first: ship-by for paid orders, pay-by for unpaid ones."""
    # Two columns of twenty rows: whole Order instances (forty columns, the FSM's bookkeeping) were a tenth of the page.
    to_ship = Order.objects.filter(shop_id=shop_id, status=OrderStatus.PAID, ship_deadline__isnull=False).order_by("ship_deadline")
    to_pay = Order.objects.filter(shop_id=shop_id, status=OrderStatus.PENDING_PAYMENT).order_by("pay_deadline")
    # Both in one statement (UNION ALL of the two index ranges): a round trip less.
    ships = to_ship.annotate(deadline_kind=Value("ship")).values_list("ship_deadline", "deadline_kind", "order_no")[:limit]
    pays = to_pay.annotate(deadline_kind=Value("pay")).values_list("pay_deadline", "deadline_kind", "order_no")[:limit]
    items = [(at, kind, DeadlineOrder(no)) for at, kind, no in ships.union(pays, all=True)]
    return sorted(items, key=lambda item: item[0])[:limit]


def dashboard_trend(*, shop_id: int, days: int = 30, today: date | None = None) -> list[dict]:
    """Per day for `days` days: orders placed, GMV (paid amounts) and the refund rate.

    Past days change slowly (a late refund): they come from the daily rollup, cached for an hour; today is counted live.
    """
    today = today or timezone.localdate()
    start = today - timedelta(days=days - 1)
    key = f"dashboard-trend:{shop_id}:{today.isoformat()}:{days}"
    past = cache.get(key)
    if past is None:
        # The stored daily rollup (orders.daystats), counted live for a day it lacks.
        past = {d.isoformat(): row for d, row in order_day_stats(shop_id=shop_id, start=start, end=today - timedelta(days=1)).items()}
        cache.set(key, past, 3600)
    current = {d.isoformat(): row for d, row in order_day_rows(shop_id=shop_id, start=today, end=today).items()}
    by_day = {**past, **current}
    trend = []
    for offset in range(days):
        day = (start + timedelta(days=offset)).isoformat()
        row = by_day.get(day, {})
        paid_orders = row.get("paid_orders", 0)
        trend.append(
            {
                "day": day,
                "orders": row.get("orders", 0),
                "gmv": str((row.get("gmv") or Decimal("0")).quantize(Decimal("0.01"))),
                "paid_orders": paid_orders,
                "refund_rate": round(100 * row.get("refunded", 0) / paid_orders, 1) if paid_orders else 0,
            }
        )
    return trend

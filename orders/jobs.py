"""RQ jobs of orders: each locks its due rows, re-checks state and due time, and calls a service. No logic here."""
from datetime import datetime

from orders.services.lifecycle import orders_auto_confirm, orders_expire_balance, orders_expire_unpaid


def order_pay_timeout(*, now: datetime, ids: list[int] | None = None) -> int:
    return orders_expire_unpaid(now=now, ids=ids)


def presale_balance_timeout(*, now: datetime, ids: list[int] | None = None) -> int:
    return orders_expire_balance(now=now, ids=ids)


def order_auto_confirm(*, now: datetime, ids: list[int] | None = None) -> int:
    return orders_auto_confirm(now=now, ids=ids)

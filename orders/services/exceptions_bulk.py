"""Raising one exception kind on many orders at once: the path of a sweep, a few statements per batch instead of a few per order.

`exception_open` is the way for one order; a sweep that stalls hundreds of parcels in
one batch uses `exceptions_open_many`, which keeps the same rules: one open exception
of a kind per order (an order that has one is skipped), shipping held for the blocking
kinds, one timeline event each.
"""
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.constants import SHIP_BLOCKING_EXCEPTIONS, ExceptionStatus
from orders.events import exceptions_opened_events
from orders.models import Order, OrderException
from orders.services.exceptions import exception_open
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.text import stored_params


@dataclass(frozen=True)
class ExceptionRaise:
    order: Order
    detail: str  # a message id (see exception_open)
    detail_params: dict | None = None
    data: dict = field(default_factory=dict)


def exceptions_open_many(*, kind: str, actor: Actor, raises: list[ExceptionRaise]) -> list[OrderException]:
    """Open `kind` on each order that has none open; returns the exceptions opened."""
    by_order = {r.order.pk: r for r in raises}
    with transaction.atomic():
        already = set(
            OrderException.objects.filter(order_id__in=by_order, kind=kind, status=ExceptionStatus.OPEN).values_list("order_id", flat=True)
        )
        fresh = [
            OrderException(order=r.order, shop_id=r.order.shop_id, kind=kind, detail=r.detail, data=stored_params(r.data, "detail_params", r.detail_params))
            for order_id, r in by_order.items()
            if order_id not in already
        ]
        try:
            with transaction.atomic():
                opened = OrderException.objects.bulk_create(fresh)
        except IntegrityError:
            # Someone opened one of these meanwhile: fall back to one at a time, which skips what is open.
            return [
                exception_open(order=r.order, kind=kind, actor=actor, detail=r.detail, detail_params=r.detail_params, data=r.data)
                for r in by_order.values()
            ]
        if kind in SHIP_BLOCKING_EXCEPTIONS:
            Order.objects.filter(pk__in=[e.order_id for e in opened], on_hold=False).update(on_hold=True, updated_at=timezone.now())
        exceptions_opened_events(exceptions=opened, actor=actor)
        return opened

"""Exceptions of many orders at once: raised by a sweep, or settled by the orders' end; a few statements per batch.

`exception_open` is the way for one order; a sweep that stalls hundreds of parcels in
one batch uses `exceptions_open_many`, which keeps the same rules: one open exception
of a kind per order (an order that has one is skipped), shipping held for the blocking
kinds, one timeline event each.

`exceptions_resolve_on_order_end` is the one place an order's end (completed, closed,
cancelled; one order or a sweep's batch) settles its open exceptions, so none is left
to be escalated after the order is over.
"""
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from orders.constants import ORDER_END_KEEPS_OPEN, SHIP_BLOCKING_EXCEPTIONS, ExceptionStatus
from orders.exception_events import exceptions_opened_events
from orders.models import Order, OrderException
from orders.services.exceptions import exception_open, exceptions_remedy_resolving, exceptions_resolved_effects
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


def exceptions_resolve_on_order_end(*, order_ids: list[int], status: str, actor: Actor, reason: str) -> list[OrderException]:
    """The orders just reached `status`: their open exceptions are resolved with the reason, one event each.

    A no-op for a status that is not an end; kinds that outlive the end (ORDER_END_KEEPS_OPEN) stay open.
    The caller holds the orders' row locks, and the transition is in the same transaction.
    """
    kept = ORDER_END_KEEPS_OPEN.get(status)
    if kept is None or not order_ids:
        return []
    with transaction.atomic():
        exceptions = list(
            OrderException.objects.select_for_update()
            .filter(order_id__any_of=list(order_ids), status=ExceptionStatus.OPEN)
            .exclude(kind__in=kept)
            .exclude(pk__in=exceptions_remedy_resolving())
            .order_by("pk")
        )
        if not exceptions:
            return []
        now = timezone.now()
        # Stored as a message id and parameters, read in the reader's language; the reason is the caller's message id
        # (a gettext in the source language, as the sweeps run), so it is a stored text of its own.
        params = {"status": status, "reason": [[reason, {}]]}
        resolved = {
            "status": ExceptionStatus.RESOLVED,
            "resolved_at": now,
            "resolution": gettext_noop("订单「%(status)s」：%(reason)s"),
            "resolved_by": actor.user,
            "resolved_by_label": actor.label[:64],
        }
        for exception in exceptions:
            for name, value in resolved.items():
                setattr(exception, name, value)
            exception.data = stored_params(exception.data, "resolution_params", params)
        OrderException.objects.bulk_update(exceptions, [*resolved, "data"])
        exceptions_resolved_effects(exceptions, actor=actor)
        return exceptions

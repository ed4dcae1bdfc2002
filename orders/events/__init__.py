"""The audit trail of orders: one function per event kind orders owns, and the one writer every app's events use.

An app that writes to an order's timeline registers its kinds (a TextChoices) in its
`AppConfig.ready()` with `order_event_kinds_register` and writes them through functions
in its own `events.py`; the `kind` column has no choices, so a new kind needs no
migration here. The exception record's events are in `exception_events.py`, the coupon
campaigns' own trail in `coupon_events.py`. This module holds the registry and the writers; the
kinds orders owns are in `order.py` (the order's life, stock, settlement, the clock) and `money.py`
(payments, refunds, compensation) beside it, and are imported from here, `orders.events`.
"""
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models

from orders.constants import OrderStatus
from orders.models import Order, OrderEvent
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.bulk import rows_copy

_labels: dict[str, object] = {}
# Kinds whose from/to are another machine's states (an after-sale case's), with that machine's choices.
_statuses: dict[str, type[models.TextChoices]] = {}


def order_event_kinds_register(choices: type[models.TextChoices], *, statuses: type[models.TextChoices] | None = None) -> None:
    """Make an app's event kinds known to the timeline, with their labels (and the states their from/to name, if not the order's)."""
    for kind, label in zip(choices.values, choices.labels, strict=True):
        if kind in _labels and _labels[kind] != label:
            raise ValueError(f"order event kind {kind!r} is registered twice")
        _labels[kind] = label
        if statuses is not None:
            _statuses[kind] = statuses


def order_event_status_label(kind: str, status: str) -> str:
    """A timeline event's from or to state in words: the order's, or the machine its kind registered."""
    choices = _statuses.get(kind, OrderStatus)
    return str(choices(status).label) if status in choices.values else status


def order_event_kind_label(kind: str) -> str:
    return str(_labels.get(kind, kind))


def order_event_kind_choices() -> list[tuple[str, str]]:
    return [(kind, str(label)) for kind, label in _labels.items()]


def _event_row(
    order: Order, kind: str, actor: Actor, *, from_status: str = "", to_status: str = "", reason: str = "", data=None
) -> OrderEvent:
    if kind not in _labels:
        raise ValueError(f"order event kind {kind!r} is not registered")
    return OrderEvent(
        order=order,
        kind=kind,
        actor_kind=actor.kind,
        actor_user=actor.user,
        actor_label=actor.label[:64],
        from_status=from_status,
        to_status=to_status,
        reason=(reason or "")[:300],
        data=data or {},
    )


def order_event_append(
    *, order: Order, kind: str, actor: Actor, from_status: str = "", to_status: str = "", reason: str = "", data=None
) -> OrderEvent:
    """The one writer of the timeline; only the events modules of the apps call it."""
    event = _event_row(order, kind, actor, from_status=from_status, to_status=to_status, reason=reason, data=data)
    event.save()
    return event


@dataclass(frozen=True, kw_only=True)
class EventRow:
    """One timeline row as an events module builds it, for `order_events_write`."""

    order_id: int
    kind: str
    actor: Actor
    from_status: str = ""
    to_status: str = ""
    reason: str = ""
    data: dict | None = None


# One object for every row without data: rows_copy encodes a JSON value once per object, not once per row.
_NO_DATA: dict = {}


def order_events_write(rows: Iterable[EventRow]) -> None:
    """Many timeline rows at once, in this order, in one COPY; only the events modules of the apps call it.

    The same rows `order_event_append` writes, without a model instance each: at thousands of
    events per batch, building and saving instances was a third of the batch's time, and quoting
    them into one INSERT's array literals most of what was left. COPY gives ids in row order.
    """
    rows = list(rows)
    for kind in {row.kind for row in rows}:
        if kind not in _labels:
            raise ValueError(f"order event kind {kind!r} is not registered")
    rows_copy(
        OrderEvent,
        (
            {
                "order_id": row.order_id, "kind": row.kind, "actor_kind": row.actor.kind,
                "actor_user_id": row.actor.user.pk if row.actor.user else None, "actor_label": row.actor.label[:64],
                "from_status": row.from_status, "to_status": row.to_status, "reason": (row.reason or "")[:300],
                "data": row.data or _NO_DATA,
            }
            for row in rows
        ),
    )


# The kinds orders owns, by sub-domain; imported from here by every caller.
from orders.events.money import (  # noqa: E402
    RefundBooked,
    compensation_paid_event,
    payment_created_event,
    payment_failed_event,
    payment_ignored_event,
    payment_succeeded_event,
    refund_failed_event,
    refund_ignored_event,
    refund_retried_event,
    refund_succeeded_event,
    refunds_created_events,
    refunds_succeeded_events,
)
from orders.events.order import (  # noqa: E402
    OrderMove,
    address_changed_event,
    auto_confirm_paused_event,
    auto_confirm_resumed_events,
    line_substituted_event,
    order_frozen_event,
    order_recovered_event,
    order_settled_event,
    order_submitted_event,
    order_submitted_event_unsaved,
    order_transition_event,
    orders_imported_events,
    orders_transition_events,
    remark_set_event,
    risk_approved_event,
    stock_returned_event,
    stock_short_event,
    stock_transferred_event,
)

__all__ = [
    "EventRow",
    "order_event_append",
    "order_event_kind_choices",
    "order_event_kind_label",
    "order_event_kinds_register",
    "order_event_status_label",
    "order_events_write",
    "payment_created_event",
    "payment_succeeded_event",
    "payment_failed_event",
    "payment_ignored_event",
    "RefundBooked",
    "refunds_created_events",
    "refund_succeeded_event",
    "refunds_succeeded_events",
    "refund_failed_event",
    "refund_retried_event",
    "refund_ignored_event",
    "compensation_paid_event",
    "order_submitted_event",
    "order_submitted_event_unsaved",
    "OrderMove",
    "order_transition_event",
    "orders_transition_events",
    "orders_imported_events",
    "order_frozen_event",
    "stock_short_event",
    "line_substituted_event",
    "stock_transferred_event",
    "stock_returned_event",
    "order_recovered_event",
    "risk_approved_event",
    "order_settled_event",
    "address_changed_event",
    "remark_set_event",
    "auto_confirm_paused_event",
    "auto_confirm_resumed_events",
]

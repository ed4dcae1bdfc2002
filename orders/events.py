"""One function per audit event kind; services call them inside their transaction."""
from orders.constants import EventKind
from orders.models import Order, OrderEvent
from shop_admin.actors import Actor


def _event_row(order: Order, kind: str, actor: Actor, *, from_status="", to_status="", reason="", data=None) -> OrderEvent:
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


def event_record(order: Order, kind: str, actor: Actor, *, reason: str = "", data: dict | None = None) -> OrderEvent:
    """A non-transition event: a payment attempt, an address change, an exception raised."""
    event = _event_row(order, kind, actor, reason=reason, data=data)
    event.save()
    return event


def event_transition(order: Order, actor: Actor, *, from_status: str, reason: str = "", data: dict | None = None) -> OrderEvent:
    event = _event_row(
        order, EventKind.TRANSITION, actor, from_status=from_status, to_status=order.status, reason=reason, data=data
    )
    event.save()
    return event


def events_transition_bulk(orders_from: list[tuple[Order, str]], actor: Actor, *, reason: str) -> None:
    """The same transition on many orders at once (the sweep), one row each."""
    OrderEvent.objects.bulk_create(
        [_event_row(o, EventKind.TRANSITION, actor, from_status=f, to_status=o.status, reason=reason) for o, f in orders_from]
    )

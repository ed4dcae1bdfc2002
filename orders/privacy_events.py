"""The events of revealing a buyer's contact details: on one order's timeline, or one row for a whole exported file."""
from orders.constants import EventKind
from orders.events import order_event_append
from orders.models import ContactExport, Order, OrderEvent
from shop_admin.kernel.actors import Actor


def contact_revealed_event(*, order: Order, actor: Actor) -> OrderEvent:
    """Someone saw the buyer's full contact details. data: fields (those shown in clear)."""
    return order_event_append(order=order, kind=EventKind.PHONE_REVEALED, actor=actor, data={"fields": ["name", "phone", "address"]})


def contact_exported_event(*, shop_id: int, actor: Actor, orders: int, job_id: int | None) -> ContactExport:
    """Someone exported the full contact details of `orders` orders in one file: one row for the file, not one per order."""
    return ContactExport.objects.create(
        shop_id=shop_id, actor_kind=actor.kind, actor_user=actor.user, actor_label=actor.label[:64], orders=orders, job_id=job_id
    )

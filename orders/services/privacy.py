"""Buyers' contact details in clear: a look at one order, or an export of many; each is logged before it is given."""
from django.db import transaction
from django.db.models import QuerySet

from orders.models import Order, OrderLine
from orders.privacy_events import contact_exported_event, contact_revealed_event
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.permissions import Perm, require_perm


def order_contact_reveal(*, order: Order, actor: Actor) -> Order:
    """The order, for one look at its full name, phone and address that its timeline records."""
    with transaction.atomic():
        contact_revealed_event(order=order, actor=actor)
    return order


def orders_contact_export_log(*, shop_id: int, actor: Actor, lines: QuerySet[OrderLine], job_id: int | None = None) -> int:
    """Record that the orders of these lines are about to be exported in clear (one entry for the file); their count.

    The role is checked again here, not only on the form: the job runs later, and the user may have lost it meanwhile.
    """
    if actor.user is not None:
        require_perm(user=actor.user, shop_id=shop_id, perm=Perm.CONTACT_REVEAL)
    orders = lines.order_by().values("order_id").distinct().count()
    with transaction.atomic():
        contact_exported_event(shop_id=shop_id, actor=actor, orders=orders, job_id=job_id)
    return orders

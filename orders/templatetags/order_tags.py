"""Template tags of order pages: the progress bar (订单进度) and status labels."""
from django import template
from django.utils.translation import gettext_lazy as _

from orders.constants import EventKind, OrderStatus
from orders.events import order_event_kind_label
from orders.models import Order

register = template.Library()

MAIN_PATH = [
    (OrderStatus.PENDING_PAYMENT, _("提交订单"), "created_at"),
    (OrderStatus.PAID, _("买家付款"), "paid_at"),
    (OrderStatus.SHIPPED, _("商家发货"), "shipped_at"),
    (OrderStatus.DELIVERED, _("快递签收"), "delivered_at"),
    (OrderStatus.COMPLETED, _("交易完成"), "completed_at"),
]
# The exits off the main path, and the column that dates them; None: the day of the transition's event, as the
# row's updated_at moves with whatever touches the order later (an exception settled, a ruling applied).
SIDE_EXITS = {OrderStatus.CANCELLED: "cancelled_at", OrderStatus.CLOSED: None, OrderStatus.REJECTED: None}


def _entered_at(order: Order):
    entered = (
        order.events.filter(kind=EventKind.TRANSITION, to_status=order.status)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )
    return entered or order.updated_at  # an imported order has no transition of its own


@register.inclusion_tag("orders/_progress.html")
def order_progress(order: Order) -> dict:
    steps = []
    for status, label, stamp in MAIN_PATH:
        at = getattr(order, stamp)
        steps.append({"label": label, "at": at, "state": "done" if at else "todo"})
    reached = [s for s in steps if s["state"] == "done"]
    exit_step = None
    if order.status in SIDE_EXITS:
        stamp = SIDE_EXITS[order.status]
        exit_step = {"label": order.get_status_display(), "at": getattr(order, stamp) if stamp else _entered_at(order)}
    elif reached:
        reached[-1]["state"] = "current"
    return {"steps": steps, "exit": exit_step}


@register.filter
def status_label(status: str) -> str:
    return str(OrderStatus(status).label) if status in OrderStatus.values else status


@register.filter
def event_kind_label(kind: str) -> str:
    """The label of any app's event kind on the order timeline."""
    return order_event_kind_label(kind)

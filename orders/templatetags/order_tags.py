"""Template tags of order pages: the progress bar (订单进度) and status labels."""
from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from orders.constants import EventKind, OrderStatus
from orders.events import order_event_kind_label, order_event_status_label
from orders.models import Order
from orders.remedies import remedy_get
from shop_admin.kernel.actors import actor_label_text

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
    for _status, label, stamp in MAIN_PATH:
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
def event_from_label(event) -> str:
    return order_event_status_label(event.kind, event.from_status)


@register.filter
def event_to_label(event) -> str:
    return order_event_status_label(event.kind, event.to_status)


@register.filter
def event_actor(event) -> str:
    """Who wrote a timeline event, in the reader's language (a job or channel by its name, a person by theirs)."""
    return actor_label_text(event.actor_kind, event.actor_label)


@register.filter
def remedy_label(name: str) -> str:
    remedy = remedy_get(name)
    return str(remedy.label) if remedy else name


# Where a refund came from, as stored in Refund.source: the order's own close, an exception's remedy, an after-sale case.
# Each with the name of the console page it links to.
REFUND_SOURCES = {"order": (_("订单关闭"), ""), "exception": (_("异常 #%(id)s"), "exceptions:detail"), "aftersale": (_("售后 #%(id)s"), "aftersale:detail")}


@register.filter
def refund_source(source: str) -> dict:
    """A refund's source in words, with a link to the exception or case it came from."""
    name, _sep, ident = (source or "").partition(":")
    if name not in REFUND_SOURCES:
        return {"label": source, "url": ""}
    label, url_name = REFUND_SOURCES[name]
    return {"label": str(label) % {"id": ident}, "url": reverse(url_name, args=[ident]) if url_name and ident.isdigit() else ""}


@register.filter
def event_kind_label(kind: str) -> str:
    """The label of any app's event kind on the order timeline."""
    return order_event_kind_label(kind)

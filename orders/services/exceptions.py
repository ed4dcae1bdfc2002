"""The one exception record: any app raises it against an order, the merchant resolves it."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.constants import SHIP_BLOCKING_EXCEPTIONS, ExceptionKind, ExceptionStatus, OrderStatus
from orders.events import exception_opened_event, exception_resolved_event
from orders.evidence import exception_evidence
from orders.models import Order, OrderException
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import Conflict


def _set_on_hold(order: Order, on_hold: bool) -> None:
    # A column update, not save(): the caller may hold an instance from before a transition in the same transaction.
    Order.objects.filter(pk=order.pk).update(on_hold=on_hold, updated_at=timezone.now())
    order.on_hold = on_hold


def exception_open(*, order: Order, kind: str, actor: Actor, detail: str = "", data: dict | None = None) -> OrderException:
    """Raise an exception on the order (a no-op returning the open one if it is already raised)."""
    with transaction.atomic():
        existing = OrderException.objects.filter(order=order, kind=kind, status=ExceptionStatus.OPEN).first()
        if existing:
            return existing
        exception = OrderException.objects.create(order=order, shop_id=order.shop_id, kind=kind, detail=detail, data=data or {})
        if kind in SHIP_BLOCKING_EXCEPTIONS and not order.on_hold:
            _set_on_hold(order, True)
        exception_opened_event(order=order, actor=actor, exception=exception)
        return exception


def order_not_received_report(*, order: Order, actor: Actor, description: str) -> OrderException:
    """The buyer says a signed parcel never arrived: only a signed (or completed) order can say so."""
    if order.status not in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        raise Conflict(
            _("订单状态为「%(status)s」，签收后才能反馈未收到") % {"status": order.get_status_display()},
            code="invalid_transition",
            details={"status": order.status},
        )
    # The tracking facts (last events, signed time and place) come from whoever registered them: logistics.
    evidence = exception_evidence(order=order, kind=ExceptionKind.NOT_RECEIVED)
    return exception_open(order=order, kind=ExceptionKind.NOT_RECEIVED, actor=actor, detail=description, data=evidence)


def exception_resolve(*, exception: OrderException, actor: Actor, resolution: str) -> OrderException:
    with transaction.atomic():
        exception = OrderException.objects.select_for_update().select_related("order").get(pk=exception.pk)
        if exception.status != ExceptionStatus.OPEN:
            raise Conflict(_("该异常已处理"), code="exception_resolved")
        exception.status = ExceptionStatus.RESOLVED
        exception.resolved_at = timezone.now()
        exception.resolution = resolution
        exception.save(update_fields=["status", "resolved_at", "resolution"])
        order = exception.order
        still_blocked = order.exceptions.filter(status=ExceptionStatus.OPEN, kind__in=SHIP_BLOCKING_EXCEPTIONS).exists()
        if order.on_hold != still_blocked:
            _set_on_hold(order, still_blocked)
        exception_resolved_event(order=order, actor=actor, exception=exception)
        return exception

"""The remedies logistics adds to the exception centre: urge the carrier (with a coupon), reship at the merchant's freight."""
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from logistics.forms import ShipForm
from logistics.models import Shipment
from logistics.services.ship import shipment_record, tracking_validate
from orders.constants import ExceptionKind
from orders.events import order_event_append, order_event_kinds_register
from orders.models import Order, OrderException
from orders.remedies import RemedyField, coupon_field, remedy_register
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import Conflict, Invalid
from shop_admin.kernel.permissions import Perm


class LogisticsRemedyEventKind(models.TextChoices):
    CARRIER_URGED = "carrier_urged", gettext_lazy("催促快递")  # the merchant urged the carrier about a parcel
    RESHIPPED = "reshipped", gettext_lazy("补发包裹")  # a new parcel at the merchant's freight


def remedy_urge_carrier(*, exception: OrderException, actor: Actor, values: dict, note: str) -> str:
    """Record that the carrier was urged about the order's latest parcel; the coupon, if any, is the resolver's."""
    order = Order.objects.get(pk=exception.order_id)
    parcel = Shipment.objects.filter(order_id=order.pk).order_by("-shipped_at", "-pk").first()
    data = {"exception_id": exception.pk}
    if parcel is not None:
        data.update({"carrier": parcel.carrier, "tracking_no": parcel.tracking_no})
        text = _("已催促%(carrier)s（%(no)s）") % {"carrier": parcel.get_carrier_display(), "no": parcel.tracking_no}
    else:
        text = _("已催促快递揽收")
    order_event_append(order=order, kind=LogisticsRemedyEventKind.CARRIER_URGED, actor=actor, reason=note or text, data=data)
    return text


def remedy_reship(*, exception: OrderException, actor: Actor, values: dict, note: str) -> str:
    """A new parcel for an order that was shipped but did not arrive; its freight is the merchant's."""
    order = Order.objects.get(pk=exception.order_id)
    if order.shipped_at is None:
        raise Conflict(_("订单尚未发货，请直接发货"), code="invalid_transition", details={"status": order.status})
    code, tracking_no = tracking_validate(carrier=values["carrier"], tracking_no=values["tracking_no"])
    if Shipment.objects.filter(carrier=code, tracking_no=tracking_no).exists():
        raise Invalid(_("该快递单号已被使用"), code="tracking_no_in_use", details={"fields": {"tracking_no": _("已被使用")}})
    # The same parcel row as any shipment: a stall deadline, and marked as a reship at the merchant's freight.
    parcel = shipment_record(order=order, actor=actor, code=code, tracking_no=tracking_no, door_delivery=False, is_reship=True)
    order_event_append(
        order=order,
        kind=LogisticsRemedyEventKind.RESHIPPED,
        actor=actor,
        reason=note,
        data={"carrier": code, "tracking_no": tracking_no, "freight_paid_by": "merchant", "exception_id": exception.pk},
    )
    return _("商家承担运费补发：%(carrier)s %(no)s") % {"carrier": parcel.get_carrier_display(), "no": tracking_no}


def logistics_remedies_register() -> None:
    """Called from LogisticsConfig.ready."""
    order_event_kinds_register(LogisticsRemedyEventKind)
    remedy_register(
        "urge_carrier",
        gettext_lazy("催促快递并补偿"),
        {
            ExceptionKind.STALLED_LOGISTICS, ExceptionKind.PAID_NOT_SHIPPED, ExceptionKind.NOT_RECEIVED,
            ExceptionKind.PICKUP_OVERDUE, ExceptionKind.DELIVERY_OVERDUE,
        },
        (coupon_field(initial="5.00"),),
        apply=remedy_urge_carrier,
        perm=Perm.ORDER_EDIT,
        position=30,
        help=gettext_lazy("记录催促，并可给买家一张无门槛补偿券（如5元）"),
    )
    remedy_register(
        "reship",
        gettext_lazy("补发（商家承担运费）"),
        {ExceptionKind.NOT_RECEIVED, ExceptionKind.STALLED_LOGISTICS, ExceptionKind.DELIVERY_OVERDUE},
        (
            # the carriers the ship form offers, so a reship names one the tracking checks know
            RemedyField("carrier", gettext_lazy("快递公司"), required=True, choices=tuple(ShipForm.base_fields["carrier"].choices)),
            RemedyField("tracking_no", gettext_lazy("快递单号"), required=True),
            coupon_field(),
        ),
        apply=remedy_reship,
        perm=Perm.ORDER_SHIP,
        position=40,
        help=gettext_lazy("新包裹的运费由商家承担"),
    )

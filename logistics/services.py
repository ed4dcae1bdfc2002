"""Logistics actions: ship an order with a carrier and a tracking number."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.constants import TRACKING_PATTERNS, Carrier
from logistics.models import Shipment
from orders.models import Order
from orders.services.lifecycle import order_ship
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import Conflict, Invalid
from shop_admin.kernel.text import join_list


def carrier_parse(value: str) -> str | None:
    """A carrier by its code (ZTO) or its Chinese name (中通, 中通快递)."""
    value = (value or "").strip()
    for carrier in Carrier:
        if value.upper() == carrier.value or value in (str(carrier.label), f"{carrier.label}快递", f"{carrier.label}速运"):
            return carrier.value
    return None


def tracking_validate(*, carrier: str, tracking_no: str) -> tuple[str, str]:
    errors = {}
    code = carrier_parse(carrier)
    tracking_no = (tracking_no or "").strip().upper()
    if code is None:
        errors["carrier"] = _("不支持的快递公司：%(c)s（可选：%(all)s）") % {
            "c": carrier,
            "all": join_list(f"{c.label}({c.value})" for c in Carrier),
        }
    elif not TRACKING_PATTERNS[code].match(tracking_no):
        errors["tracking_no"] = _("快递单号“%(no)s”不符合%(c)s的单号格式") % {"no": tracking_no, "c": Carrier(code).label}
    if errors:
        raise Invalid(_("发货信息有误"), code="invalid_shipment", details={"fields": errors})
    return code, tracking_no


def shipment_create(*, order: Order, actor: Actor, carrier: str, tracking_no: str) -> Shipment:
    """Ship the order: the order moves to shipped and its stock is deducted, the parcel is recorded, all at once."""
    code, tracking_no = tracking_validate(carrier=carrier, tracking_no=tracking_no)
    with transaction.atomic():
        if Shipment.objects.filter(carrier=code, tracking_no=tracking_no).exclude(order=order).exists():
            raise Conflict(_("该快递单号已用于其他订单"), code="tracking_no_in_use", details={"fields": {"tracking_no": tracking_no}})
        order = order_ship(order=order, actor=actor, carrier=code, tracking_no=tracking_no)
        return Shipment.objects.create(
            order=order,
            shop_id=order.shop_id,
            carrier=code,
            tracking_no=tracking_no,
            shipped_at=order.shipped_at or timezone.now(),
            created_by=actor.user,
        )

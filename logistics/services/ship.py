"""Shipping: an order's first parcel ships the order; further parcels of a shipped order are added beside it."""
import functools

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from logistics.constants import TRACKING_PATTERNS, Carrier, FreightPayer
from logistics.events import parcel_added_event
from logistics.models import Shipment
from logistics.routes import shipment_route
from logistics.selectors import shipment_counts_changed
from orders.constants import OrderStatus
from orders.models import Order
from orders.services.common import order_lock
from orders.services.lifecycle import order_ship
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.errors import Conflict, Invalid
from shop_admin.kernel.text import join_list


@functools.cache
def _carrier_names(language: str | None) -> dict[str, str]:
    """Every name a carrier goes by (its code, its Chinese name with or without 快递/速运, its label in `language`) -> code.

    Built once per language: every tracking push parses a carrier, and translating the labels each time was most of its parsing.
    """
    names: dict[str, str] = {}
    for lang in ("zh-hans", language):
        with translation.override(lang):
            for carrier in Carrier:
                label = str(carrier.label)
                for name in (label, f"{label}快递", f"{label}速运"):
                    names.setdefault(name, carrier.value)
    for carrier in Carrier:
        names[carrier.value] = carrier.value
    return names


def carrier_parse(value: str) -> str | None:
    """A carrier by its code (ZTO, any case) or its name (中通, 中通快递)."""
    value = (value or "").strip()
    names = _carrier_names(translation.get_language())
    return names.get(value.upper()) or names.get(value)


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


def tracking_no_free(*, code: str, tracking_no: str, order: Order) -> None:
    if Shipment.objects.filter(carrier=code, tracking_no=tracking_no).exclude(order=order).exists():
        raise Conflict(_("该快递单号已用于其他订单"), code="tracking_no_in_use", details={"fields": {"tracking_no": tracking_no}})
    if Shipment.objects.filter(carrier=code, tracking_no=tracking_no, order=order).exists():
        raise Conflict(_("该订单已有此快递单号的包裹"), code="tracking_no_in_use", details={"fields": {"tracking_no": tracking_no}})


def shipment_record(
    *, order: Order, actor: Actor, code: str, tracking_no: str, door_delivery: bool, is_reship: bool = False, shipped_at=None
) -> Shipment:
    """The parcel row with its stall deadline (inside the caller's transaction, the order already moved)."""
    shipped_at = shipped_at or timezone.now()
    origin, destination = shipment_route(order=order)
    shipment = Shipment.objects.create(
        order=order,
        shop_id=order.shop_id,
        carrier=code,
        tracking_no=tracking_no,
        shipped_at=shipped_at,
        origin_province=origin,
        destination_province=destination,
        stall_deadline=shipped_at + settings.LOGISTICS_STALL_AFTER,
        door_delivery=door_delivery,
        is_reship=is_reship,
        freight_payer=FreightPayer.MERCHANT if is_reship else FreightPayer.BUYER,
        created_by=actor.user,
    )
    deadline_schedule(name="shipment_stall_timeout", pk=shipment.pk, at=shipment.stall_deadline)
    shipment_counts_changed(shop_ids={order.shop_id})
    return shipment


def shipment_create(
    *, order: Order, actor: Actor, carrier: str, tracking_no: str, door_delivery: bool = False, add_parcel: bool = False
) -> Shipment:
    """Ship the order, or (`add_parcel`) add a parcel to an order already shipped and not yet signed.

    The first parcel moves the order to shipped and deducts its stock; a further one
    (goods split over boxes or warehouses) is recorded beside it with its own event.
    A further parcel is asked for explicitly: a repeated or concurrent "ship" of a
    shipped order is refused as before, never a second parcel by accident.
    """
    code, tracking_no = tracking_validate(carrier=carrier, tracking_no=tracking_no)
    with transaction.atomic():
        order = order_lock(order.pk)
        tracking_no_free(code=code, tracking_no=tracking_no, order=order)
        if add_parcel and order.status == OrderStatus.SHIPPED:
            shipment = shipment_record(order=order, actor=actor, code=code, tracking_no=tracking_no, door_delivery=door_delivery)
            parcel_added_event(order=order, actor=actor, shipment=shipment)
            return shipment
        order = order_ship(order=order, actor=actor, carrier=code, tracking_no=tracking_no)
        return shipment_record(
            order=order, actor=actor, code=code, tracking_no=tracking_no, door_delivery=door_delivery, shipped_at=order.shipped_at
        )

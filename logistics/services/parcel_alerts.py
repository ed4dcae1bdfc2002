"""Parcel alerts before the 72 h stall: no pickup scan 24 h after shipping (揽收超时), not signed by the expected time (签收超时).

Each is a deadline kind (the sweep applies it; the time is the parcel's `shipped_at` plus a setting, so nothing new
is scheduled when a parcel ships) that opens the order's exception of its kind once per parcel, and each closes by
itself when the missing scan arrives (`parcel_alerts_follow`, on the tracking push). Any scan counts as picked up: a
carrier scans only a parcel it holds. The expected delivery time is LOGISTICS_DELIVERY_EXPECTED_DEFAULT for every
route with too little history; a route with enough is expected within its p95 transit time (`logistics.routes`).
"""
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, QuerySet, Value
from django.utils.translation import gettext_noop

from logistics.constants import ShipmentStatus
from logistics.models import Shipment
from logistics.routes import route_expected, route_transit_floor
from orders.constants import ExceptionKind, ExceptionStatus
from orders.models import Order, OrderException
from orders.services.exceptions import exception_resolve
from orders.services.exceptions_bulk import ExceptionRaise, exceptions_open_many
from shop_admin.kernel.actors import Actor

PICKUP_OVERDUE_TEXT = gettext_noop("揽收超时：%(carrier)s %(no)s 发货 %(hours)d 小时仍无揽收扫描")
DELIVERY_OVERDUE_TEXT = gettext_noop("签收超时：%(carrier)s %(no)s 发货 %(days)d 天仍未签收")


def shipment_pickup_due(now: datetime) -> QuerySet:
    """Parcels shipped LOGISTICS_PICKUP_AFTER ago without a single scan, not yet alerted."""
    return Shipment.objects.filter(
        status=ShipmentStatus.IN_TRANSIT, last_event_at__isnull=True, pickup_overdue_at__isnull=True,
        shipped_at__lte=now - settings.LOGISTICS_PICKUP_AFTER,
    )


def shipment_delivery_due(now: datetime) -> QuerySet:
    """Parcels still on their way to the buyer past their route's expected delivery time, not yet alerted."""
    moment = Value(now, output_field=DateTimeField())
    return route_expected(
        Shipment.objects.filter(
            status=ShipmentStatus.IN_TRANSIT, delivery_overdue_at__isnull=True, shipped_at__lte=now - route_transit_floor()
        )
    ).filter(shipped_at__lte=ExpressionWrapper(moment - F("route_transit_p95"), output_field=DateTimeField()))


def _alert(*, now: datetime, ids: list[int] | None, due: QuerySet, flag: str, kind: str, actor: str, text: str, params) -> int:
    with transaction.atomic():
        if ids is not None:
            due = due.filter(pk__in=ids)
        shipments = list(
            due.order_by("shipped_at", "pk").only("pk", "order_id", "carrier", "tracking_no", "shipped_at")
            .select_for_update(skip_locked=True)[: settings.SWEEP_BATCH_SIZE]
        )
        if not shipments:
            return 0
        Shipment.objects.filter(pk__in=[s.pk for s in shipments]).update(**{flag: now})
        orders = Order.objects.only("pk", "shop_id", "status").in_bulk({s.order_id for s in shipments})
        raises = [
            ExceptionRaise(
                order=orders[s.order_id], detail=text, detail_params=params(s, now),
                data={"reason": kind, "shipment_id": s.pk, "carrier": s.carrier, "tracking_no": s.tracking_no},
            )
            for s in shipments
        ]
        exceptions_open_many(kind=kind, actor=Actor.system(actor), raises=raises)
        return len(shipments)


def shipment_pickup_timeout(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline: a parcel with no scan LOGISTICS_PICKUP_AFTER after shipping opens the order's pickup_overdue."""
    return _alert(
        now=now, ids=ids, due=shipment_pickup_due(now), flag="pickup_overdue_at", kind=ExceptionKind.PICKUP_OVERDUE,
        actor="shipment_pickup_timeout", text=PICKUP_OVERDUE_TEXT,
        params=lambda s, now: {"carrier": s.carrier, "no": s.tracking_no, "hours": int((now - s.shipped_at).total_seconds() // 3600)},
    )


def shipment_delivery_timeout(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline: a parcel not signed by the expected delivery time opens the order's delivery_overdue."""
    return _alert(
        now=now, ids=ids, due=shipment_delivery_due(now), flag="delivery_overdue_at", kind=ExceptionKind.DELIVERY_OVERDUE,
        actor="shipment_delivery_timeout", text=DELIVERY_OVERDUE_TEXT,
        params=lambda s, now: {"carrier": s.carrier, "no": s.tracking_no, "days": (now - s.shipped_at).days},
    )


def _alert_close(*, shipment: Shipment, kind: str, still_waiting: QuerySet, resolution: str, actor: Actor) -> None:
    """Close the order's exception of `kind` unless another of its alerted parcels still misses its scan."""
    if still_waiting.filter(order_id=shipment.order_id).exclude(pk=shipment.pk).exists():
        return
    for exception in OrderException.objects.filter(order_id=shipment.order_id, kind=kind, status=ExceptionStatus.OPEN):
        exception_resolve(
            exception=exception, actor=actor, resolution=resolution,
            resolution_params={"no": shipment.tracking_no},
        )


def parcel_alerts_follow(*, shipment: Shipment, had_scan: bool) -> None:
    """On a tracking push (the parcel locked): the missing scan arrived, so the alert it raised closes itself.

    Closed by the clock that raised it (as a stall is cleared), whose name reads in the console's language.
    """
    if shipment.pickup_overdue_at is not None and not had_scan:
        _alert_close(
            shipment=shipment, kind=ExceptionKind.PICKUP_OVERDUE,
            still_waiting=Shipment.objects.filter(pickup_overdue_at__isnull=False, last_event_at__isnull=True),
            resolution=gettext_noop("已揽收：%(no)s 有揽收扫描"), actor=Actor.system("shipment_pickup_timeout"),
        )
    if shipment.delivery_overdue_at is not None and shipment.status != ShipmentStatus.IN_TRANSIT:
        _alert_close(
            shipment=shipment, kind=ExceptionKind.DELIVERY_OVERDUE,
            still_waiting=Shipment.objects.filter(delivery_overdue_at__isnull=False, status=ShipmentStatus.IN_TRANSIT),
            resolution=(
                gettext_noop("已签收：%(no)s") if shipment.status == ShipmentStatus.SIGNED else gettext_noop("包裹已不再派送给买家：%(no)s")
            ),
            actor=Actor.system("shipment_delivery_timeout"),
        )

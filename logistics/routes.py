"""Routes of parcels (carrier, origin province, destination province) and what the shop's own history expects of one.

`route_expected` is the one place a route's expected transit time and longest silence are read: the route's p95
when it has at least LOGISTICS_ROUTE_MIN_DELIVERED delivered parcels, the defaults otherwise. The delivery_overdue
alert and the at-risk list both read it.
"""
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from logistics.constants import ShipmentStatus
from logistics.models import RouteStat
from orders.models import Order, OrderLine
from shop_admin.kernel.models import Warehouse


def shipment_route(*, order: Order) -> tuple[str, str]:
    """(origin, destination) provinces of a parcel of this order: the shipping warehouse's and the buyer's."""
    line = (
        OrderLine.objects.filter(order_id=order.pk, stock_level__isnull=False)
        .select_related("stock_level__warehouse").order_by("pk").first()
    )
    if line is not None:
        origin = line.stock_level.warehouse.province
    else:
        origin = Warehouse.objects.filter(shop_id=order.shop_id).order_by("priority", "pk").values_list("province", flat=True).first() or ""
    return origin, order.province


def _route_p95(field: str, default: timedelta):
    counted = RouteStat.objects.filter(
        shop_id=OuterRef("shop_id"), carrier=OuterRef("carrier"), origin_province=OuterRef("origin_province"),
        destination_province=OuterRef("destination_province"), delivered__gte=settings.LOGISTICS_ROUTE_MIN_DELIVERED,
    ).values(field)[:1]
    return Coalesce(Subquery(counted, output_field=DurationField()), Value(default, output_field=DurationField()))


def route_expected(shipments: QuerySet) -> QuerySet:
    """The parcels with `route_transit_p95` and `route_idle_p95` (durations), their route's or the defaults, and
    `idle_since` (the last scan, or shipping before the first)."""
    return shipments.annotate(
        idle_since=Coalesce("last_event_at", "shipped_at"),
        route_transit_p95=_route_p95("transit_p95", settings.LOGISTICS_DELIVERY_EXPECTED_DEFAULT),
        route_idle_p95=_route_p95("idle_p95", settings.LOGISTICS_IDLE_EXPECTED_DEFAULT),
    )


def route_at_risk(shipments: QuerySet, *, now: datetime) -> QuerySet:
    """Parcels on their way to the buyer silent longer than their route's p95 gap, or travelling longer than its p95."""
    moment = Value(now, output_field=DateTimeField())
    return route_expected(shipments).filter(status=ShipmentStatus.IN_TRANSIT).filter(
        Q(shipped_at__lt=ExpressionWrapper(moment - F("route_transit_p95"), output_field=DateTimeField()))
        | Q(idle_since__lt=ExpressionWrapper(moment - F("route_idle_p95"), output_field=DateTimeField()))
    )

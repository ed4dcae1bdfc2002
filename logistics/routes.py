"""Routes of parcels (carrier, origin province, destination province) and what the shop's own history expects of one.

`route_expected` is the one place a route's expected transit time and longest silence are read: the route's p95
when it has at least LOGISTICS_ROUTE_MIN_DELIVERED delivered parcels, the defaults otherwise. The delivery_overdue
alert and the at-risk list both read it.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from logistics.constants import ShipmentStatus
from logistics.models import RouteStat, Shipment
from orders.models import Order, OrderLine
from shop_admin.kernel.api import feed_cursor_decode, feed_cursor_encode
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


def _route_counted(field: str, default: Value):
    """A column of the parcel's route statistics when the route has enough history, `default` otherwise."""
    counted = RouteStat.objects.filter(
        shop_id=OuterRef("shop_id"), carrier=OuterRef("carrier"), origin_province=OuterRef("origin_province"),
        destination_province=OuterRef("destination_province"), delivered__gte=settings.LOGISTICS_ROUTE_MIN_DELIVERED,
    ).values(field)[:1]
    return Coalesce(Subquery(counted, output_field=default.output_field), default)


def _route_p95(field: str, default: timedelta):
    return _route_counted(field, Value(default, output_field=DurationField()))


def route_expected(shipments: QuerySet) -> QuerySet:
    """The parcels with `route_transit_p95` and `route_idle_p95` (durations), their route's or the defaults, and
    `idle_since` (the last scan, or shipping before the first)."""
    return shipments.annotate(
        idle_since=Coalesce("last_event_at", "shipped_at"),
        route_transit_p95=_route_p95("transit_p95", settings.LOGISTICS_DELIVERY_EXPECTED_DEFAULT),
        route_idle_p95=_route_p95("idle_p95", settings.LOGISTICS_IDLE_EXPECTED_DEFAULT),
    )


def route_transit_floor() -> timedelta:
    """The shortest expected transit of any route (the default included): no parcel shipped more recently than this
    ago can be late, so the delivery sweep reads its index range only from there on."""
    fastest = RouteStat.objects.filter(delivered__gte=settings.LOGISTICS_ROUTE_MIN_DELIVERED).aggregate(m=Min("transit_p95"))["m"]
    default = settings.LOGISTICS_DELIVERY_EXPECTED_DEFAULT
    return min(default, fastest) if fastest is not None else default


def route_numbers(shipments: QuerySet) -> QuerySet:
    """`route_expected`, and `route_delivered`: how many delivered parcels back the figures (0: the defaults)."""
    if "route_transit_p95" not in shipments.query.annotations:
        shipments = route_expected(shipments)
    return shipments.annotate(route_delivered=_route_counted("delivered", Value(0)))


def route_at_risk(shipments: QuerySet, *, now: datetime) -> QuerySet:
    """Parcels on their way to the buyer silent longer than their route's p95 gap, or travelling longer than its p95."""
    moment = Value(now, output_field=DateTimeField())
    return route_expected(shipments).filter(status=ShipmentStatus.IN_TRANSIT).filter(
        Q(shipped_at__lt=ExpressionWrapper(moment - F("route_transit_p95"), output_field=DateTimeField()))
        | Q(idle_since__lt=ExpressionWrapper(moment - F("route_idle_p95"), output_field=DateTimeField()))
    )


@dataclass(frozen=True)
class ParcelFilters:
    at_risk: bool = False
    carrier: str = ""
    status: str = ""


def parcels_feed(
    *, shop_ids: set[int], filters: ParcelFilters, now: datetime, cursor: str | None, limit: int
) -> tuple[list[Shipment], str | None]:
    """The shops' parcels, newest shipped first, each with its route's expectations; keyset-paginated."""
    qs = Shipment.objects.filter(shop_id__in=shop_ids).select_related("order")
    if filters.carrier:
        qs = qs.filter(carrier=filters.carrier)
    if filters.status:
        qs = qs.filter(status=filters.status)
    qs = route_numbers(route_at_risk(qs, now=now) if filters.at_risk else qs)
    if cursor:
        moment, pk = feed_cursor_decode(cursor)
        qs = qs.filter(Q(shipped_at__lte=moment), Q(shipped_at__lt=moment) | Q(shipped_at=moment, pk__lt=pk))
    page = list(qs.order_by("-shipped_at", "-pk")[: limit + 1])
    next_cursor = feed_cursor_encode(page[limit - 1].shipped_at, page[limit - 1].pk) if len(page) > limit else None
    return page[:limit], next_cursor


def parcel_hours(shipment: Shipment, *, now: datetime) -> dict:
    """A parcel of `route_expected`'s in hours: how long it has been silent (on the road only) and travelling, against
    its route's p95 of each, and whether that makes it at risk."""
    on_the_road = shipment.status == ShipmentStatus.IN_TRANSIT
    idle = now - shipment.idle_since if on_the_road else None
    transit = (shipment.signed_at or now) - shipment.shipped_at if on_the_road or shipment.signed_at else None
    return {
        "idle_hours": _hours(idle),
        "route_p95_idle_hours": _hours(shipment.route_idle_p95),
        "transit_hours": _hours(transit),
        "route_p95_transit_hours": _hours(shipment.route_transit_p95),
        "at_risk": on_the_road and (idle > shipment.route_idle_p95 or transit > shipment.route_transit_p95),
        "route_has_history": shipment.route_delivered >= settings.LOGISTICS_ROUTE_MIN_DELIVERED,
    }


def _hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 1)

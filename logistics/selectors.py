"""Reads of logistics: parcels per order with their timelines, orders by tracking number, the /logistics/ list and counts."""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from logistics.constants import SHIPMENT_MOVING, Carrier, ShipmentStatus
from logistics.models import Shipment, TrackingEvent
from shop_admin.kernel.console import DASHBOARD_COUNT_CAP


def _with_timeline(queryset: QuerySet) -> QuerySet:
    """Each parcel gets `timeline`: its events oldest first by the carrier's time (one query for all of them)."""
    return queryset.prefetch_related(
        Prefetch("events", queryset=TrackingEvent.objects.order_by("occurred_at", "pk"), to_attr="timeline")
    )


def shipments_by_order(order_ids: list[int]) -> dict[int, list[Shipment]]:
    """The parcels of these orders with their timelines, oldest parcel first, in two queries."""
    by_order: dict[int, list[Shipment]] = defaultdict(list)
    for shipment in _with_timeline(Shipment.objects.filter(order_id__in=order_ids).order_by("shipped_at", "pk")):
        by_order[shipment.order_id].append(shipment)
    return by_order


class ParcelBrief(NamedTuple):
    """A parcel as the order list's cell shows it."""

    carrier: str
    tracking_no: str


def shipments_brief_by_order(order_ids: list[int]) -> dict[int, list[ParcelBrief]]:
    """The carrier and tracking number of these orders' parcels, oldest parcel first, in one query (no timelines)."""
    by_order: dict[int, list[ParcelBrief]] = defaultdict(list)
    rows = Shipment.objects.filter(order_id__in=order_ids).order_by("shipped_at", "pk").values_list("order_id", "carrier", "tracking_no")
    for order_id, carrier, tracking_no in rows:
        by_order[order_id].append(ParcelBrief(carrier, tracking_no))
    return by_order


def shipments_list_cell(shipments: list[Shipment | ParcelBrief]) -> str:
    """The order list's parcels cell (as `logistics/_order_cell.html` draws it), written without the template engine."""
    return mark_safe("<br>".join(f"{escape(_carrier_label(s.carrier))} {escape(s.tracking_no)}" for s in shipments))


def _carrier_label(carrier: str) -> str:
    try:
        return str(Carrier(carrier).label)
    except ValueError:
        return carrier


def looks_like_tracking_no(q: str) -> bool:
    upper = q.strip().upper()
    return upper.isascii() and upper.replace("-", "").isalnum() and any(ch.isdigit() for ch in upper)


def order_ids_by_tracking_no(shop_id: int, q: str) -> list[int] | None:
    """Orders of the shop shipped with this tracking number (one index lookup); None if q is not a tracking number."""
    if not looks_like_tracking_no(q):
        return None
    tracking_no = q.strip().upper()
    return list(Shipment.objects.filter(shop_id=shop_id, tracking_no=tracking_no).values_list("order_id", flat=True)[:100])


# --- the /logistics/ console page ---


@dataclass(frozen=True)
class ShipmentFilters:
    carrier: str | None = None
    status: str | None = None
    stalled: bool = False
    shipped_from: date | None = None
    shipped_to: date | None = None
    q: str = ""


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def shipment_list(*, shop_id: int, filters: ShipmentFilters, limit: int = 100, offset: int = 0) -> list[Shipment]:
    """The shop's parcels, newest shipped first, with their order and timeline; one more than `limit` says a next page exists."""
    queryset = Shipment.objects.filter(shop_id=shop_id)
    if filters.carrier:
        queryset = queryset.filter(carrier=filters.carrier)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.stalled:
        queryset = queryset.filter(stalled_at__isnull=False)
    if filters.shipped_from:
        queryset = queryset.filter(shipped_at__gte=_day_start(filters.shipped_from))
    if filters.shipped_to:
        queryset = queryset.filter(shipped_at__lt=_day_start(filters.shipped_to) + timedelta(days=1))
    if filters.q:
        q = filters.q.strip()
        queryset = queryset.filter(Q(tracking_no=q.upper()) | Q(order__order_no=q))
    queryset = queryset.select_related("order").order_by("-shipped_at", "-id")[offset : offset + limit + 1]
    return list(_with_timeline(queryset))


def shipment_status_counts(*, shop_id: int) -> dict[str, int]:
    """Parcels of the shop per status, and how many are stalled."""
    counts = dict.fromkeys(ShipmentStatus.values, 0)
    for row in Shipment.objects.filter(shop_id=shop_id).values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    counts["stalled"] = shipments_stalled_count(shop_id=shop_id)
    return counts


def shipments_stalled_count(*, shop_id: int, now: datetime | None = None) -> int:
    """Stalled parcels of the shop still on the road (the dashboard tile), counted up to the tiles' cap."""
    queryset = Shipment.objects.filter(shop_id=shop_id, stalled_at__isnull=False, status__in=SHIPMENT_MOVING)
    return queryset.values("pk")[: DASHBOARD_COUNT_CAP + 1].count()

"""Reads of logistics: parcels per order with their timelines, orders by tracking number, the /logistics/ list and counts."""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple

from django.core.cache import cache
from django.db import connection, router, transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from logistics.constants import SHIPMENT_MOVING, Carrier, ShipmentStatus
from logistics.models import Shipment, TrackingEvent
from logistics.routes import route_at_risk, route_numbers
from logistics.sql import shipment_status_count_rows
from orders.parts import PartExportSql
from orders.selectors import TAB_COUNT_CAP, order_page_url
from shop_admin.kernel import rawsql
from shop_admin.kernel.console import DASHBOARD_COUNT_CAP

SHIPMENT_COUNTS_TTL = 15  # seconds, as the order list's tabs: a change commits a drop of the key, the TTL bounds anything missed


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


def shipments_export_sql(shop_id: int) -> PartExportSql:
    """The CSV's 快递公司 and 快递单号 in SQL (the COPY export): the order's first parcel, as `export_columns` gives them.
    The shop's parcels are read once and joined by hash, not looked up once per line."""
    carriers = Carrier.choices
    label = "CASE shipments.carrier " + " ".join("WHEN %s THEN %s" for _c in carriers) + " ELSE shipments.carrier END"
    return PartExportSql(
        join=(
            f"LEFT JOIN (SELECT DISTINCT ON (s.order_id) s.order_id, s.carrier, s.tracking_no FROM {Shipment._meta.db_table} s "
            "WHERE s.shop_id = %s ORDER BY s.order_id, s.shipped_at, s.id) AS shipments ON shipments.order_id = o.id"
        ),
        columns={
            "快递公司": (label, [str(part) for choice in carriers for part in choice]),
            "快递单号": ("shipments.tracking_no", []),
        },
        params=[shop_id],
    )


class ParcelBrief(NamedTuple):
    """A parcel as the order list's cell shows it."""

    carrier: str
    tracking_no: str


def shipments_brief_by_order(order_ids: list[int]) -> dict[int, list[ParcelBrief]]:
    """The carrier and tracking number of these orders' parcels, oldest parcel first, in one query (no timelines).

    The order list asks on every page: the statement is written once and prepared per connection (kernel rawsql),
    as compiling it through the ORM cost more CPU than the database spent on it.
    """
    by_order: dict[int, list[ParcelBrief]] = defaultdict(list)
    for order_id, carrier, tracking_no in rawsql.prepared_rows(router.db_for_read(Shipment), _shipments_brief_sql, [list(order_ids)]):
        by_order[order_id].append(ParcelBrief(carrier, tracking_no))
    return by_order


@lru_cache(maxsize=1)
def _shipments_brief_sql() -> str:
    q = connection.ops.quote_name
    return (
        f"SELECT s.order_id, s.carrier, s.tracking_no FROM {q(Shipment._meta.db_table)} s "
        "WHERE s.order_id = ANY(%s) ORDER BY s.shipped_at, s.id"
    )


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
    at_risk: bool = False  # on the road beyond the route's p95 silence or transit (logistics.routes)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def shipment_list(
    *, shop_id: int, filters: ShipmentFilters, now: datetime, limit: int = 100, offset: int = 0
) -> list[Shipment]:
    """The shop's parcels, newest shipped first, with their order, timeline and route figures (`route_numbers`); one more
    than `limit` says a next page exists."""
    queryset = Shipment.objects.filter(shop_id=shop_id)
    if filters.at_risk:
        queryset = route_at_risk(queryset, now=now)
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
    queryset = route_numbers(queryset).select_related("order").order_by("-shipped_at", "-id")[offset : offset + limit + 1]
    return list(_with_timeline(queryset))


def _shipment_counts_key(shop_id: int) -> str:
    return f"shipment-status-counts:{shop_id}"


def shipment_status_counts(*, shop_id: int) -> dict[str, int]:
    """Parcels of the shop per status, and how many are stalled, each capped at TAB_COUNT_CAP + 1 ("1000+"); cached.

    Every status is counted by its own LIMITed index scan, in one statement; the result is
    cached until a parcel of the shop is added, changes status or stalls (`shipment_counts_changed`).
    """
    key = _shipment_counts_key(shop_id)
    counts = cache.get(key)
    if counts is None:
        statuses = list(ShipmentStatus.values)
        counts = dict.fromkeys(statuses, 0) | dict(shipment_status_count_rows(shop_id=shop_id, statuses=statuses, cap=TAB_COUNT_CAP + 1))
        counts["stalled"] = min(shipments_stalled_count(shop_id=shop_id), TAB_COUNT_CAP + 1)
        cache.set(key, counts, SHIPMENT_COUNTS_TTL)
    return counts


def shipment_counts_changed(*, shop_ids: set[int]) -> None:
    """Parcels of these shops were added, changed status or stalled: drop their cached counts once that is committed."""

    def forget() -> None:
        for shop_id in shop_ids:
            cache.delete(_shipment_counts_key(shop_id))

    transaction.on_commit(forget)


def shipments_stalled(*, shop_id: int, now: datetime | None = None) -> QuerySet[Shipment]:
    """Stalled parcels of the shop still on the road (the dashboard tile)."""
    return Shipment.objects.filter(shop_id=shop_id, stalled_at__isnull=False, status__in=SHIPMENT_MOVING)


def shipments_stalled_count(*, shop_id: int) -> int:
    """Stalled parcels of the shop still on the road, counted up to the tiles' cap."""
    return shipments_stalled(shop_id=shop_id).values("pk")[: DASHBOARD_COUNT_CAP + 1].count()


def shipment_page_url(shipment_id: int) -> str:
    """The console page of the order a parcel belongs to."""
    return order_page_url(order_id=Shipment.objects.filter(pk=shipment_id).values_list("order_id", flat=True).first())

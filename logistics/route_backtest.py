"""The at-risk flag replayed over a shop's history: of the parcels that later stalled (72 h without a scan), how many
it flagged first and how much earlier, and how many parcels it flagged that were delivered without stalling.

The route statistics are those the daily job would have had at the split moment (`route_stats_refresh(now=split)`,
computed inside a transaction that is rolled back: the shop's real figures stay). Each parcel shipped after the split
is then walked along its own scans with the rule of `logistics.routes.route_at_risk`: at risk from the first moment
it is on the road and silent beyond its route's p95 gap, or travelling beyond its route's p95 transit.
"""
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from logistics.constants import ShipmentStatus
from logistics.models import RouteStat, Shipment, TrackingEvent
from logistics.sql import route_stats_refresh

Route = tuple[str, str, str]  # carrier, origin province, destination province


@dataclass(frozen=True)
class Expectation:
    transit_p95: timedelta
    idle_p95: timedelta


@dataclass
class BacktestResult:
    parcels: int = 0
    stalled: int = 0
    stalled_flagged_early: int = 0
    hours_earlier: list[float] = field(default_factory=list)
    delivered_without_stall: int = 0
    false_flags: int = 0  # flagged, then delivered without stalling
    routes_with_history: int = 0
    # per route: its p95 gap and transit in hours at the split, stalled, flagged early, false flags
    by_route: dict[Route, list] = field(default_factory=dict)

    def lines(self) -> list[str]:
        early = self.hours_earlier
        share = f"{self.stalled_flagged_early / self.stalled:.1%}" if self.stalled else "-"
        false_share = f"{self.false_flags / self.delivered_without_stall:.1%}" if self.delivered_without_stall else "-"
        return [
            f"parcels replayed: {self.parcels} (routes with enough history at the split: {self.routes_with_history})",
            f"stalled later (72 h without a scan): {self.stalled}",
            f"flagged at risk before stalling: {self.stalled_flagged_early} ({share})",
            f"hours earlier than the 72 h stall: mean {statistics.fmean(early):.1f}, median {statistics.median(early):.1f}" if early else "hours earlier: -",
            f"false flags (flagged, then delivered without stalling): {self.false_flags} of {self.delivered_without_stall} delivered ({false_share})",
            *(
                f"  {' '.join(route)}: p95 gap {gap:.1f} h, p95 transit {transit:.1f} h; stalled {stalled}, flagged early {early}, false flags {false}"
                for route, (gap, transit, stalled, early, false) in sorted(self.by_route.items())
            ),
        ]


def route_expectations_at(*, shop_id: int, split: datetime) -> dict[Route, Expectation]:
    """The routes with enough history as the daily job would have computed them at `split`; the shop's stored figures
    are left as they are."""
    with transaction.atomic():
        route_stats_refresh(now=split, shop_ids=[shop_id])
        stats = {
            (r.carrier, r.origin_province, r.destination_province): Expectation(r.transit_p95, r.idle_p95)
            for r in RouteStat.objects.filter(shop_id=shop_id, delivered__gte=settings.LOGISTICS_ROUTE_MIN_DELIVERED)
        }
        transaction.set_rollback(True)
    return stats


def _first_flag(points: list[datetime], shipped_at: datetime, expected: Expectation) -> datetime | None:
    """The first moment on the road (between the first and the last point) the parcel counts as at risk."""
    end = points[-1]
    candidates = [shipped_at + expected.transit_p95] if shipped_at + expected.transit_p95 < end else []
    for before, after in zip(points, points[1:]):
        if before + expected.idle_p95 < after:
            candidates.append(before + expected.idle_p95)
            break  # gaps come in time order: the first one beyond p95 is the earliest idle flag
    return min(candidates) if candidates else None


def _first_stall(points: list[datetime]) -> datetime | None:
    for before, after in zip(points, points[1:]):
        if after - before >= settings.LOGISTICS_STALL_AFTER:
            return before + settings.LOGISTICS_STALL_AFTER
    return None


def route_backtest(*, shop_id: int, split: datetime, until: datetime) -> BacktestResult:
    """Replay the parcels of the shop shipped in [split, until - 72 h] (each watched until it is signed or `until`)."""
    expectations = route_expectations_at(shop_id=shop_id, split=split)
    default = Expectation(settings.LOGISTICS_DELIVERY_EXPECTED_DEFAULT, settings.LOGISTICS_IDLE_EXPECTED_DEFAULT)
    shipments = list(
        Shipment.objects.filter(shop_id=shop_id, shipped_at__gte=split, shipped_at__lte=until - settings.LOGISTICS_STALL_AFTER)
        .values("pk", "carrier", "origin_province", "destination_province", "shipped_at", "signed_at", "status")
    )
    scans: dict[int, list[datetime]] = defaultdict(list)
    for shipment_id, moment in (
        TrackingEvent.objects.filter(shipment_id__in=[s["pk"] for s in shipments]).order_by("occurred_at").values_list("shipment_id", "occurred_at")
    ):
        scans[shipment_id].append(moment)
    result = BacktestResult(parcels=len(shipments), routes_with_history=len(expectations))
    for s in shipments:
        signed = s["signed_at"] if s["status"] == ShipmentStatus.SIGNED and s["signed_at"] and s["signed_at"] <= until else None
        end = signed or until
        points = [s["shipped_at"], *(t for t in scans[s["pk"]] if s["shipped_at"] < t < end), end]
        expected = expectations.get((s["carrier"], s["origin_province"], s["destination_province"]), default)
        flagged_at, stalled_at = _first_flag(points, s["shipped_at"], expected), _first_stall(points)
        route = result.by_route.setdefault(
            (s["carrier"], s["origin_province"], s["destination_province"]),
            [expected.idle_p95.total_seconds() / 3600, expected.transit_p95.total_seconds() / 3600, 0, 0, 0],
        )
        if stalled_at is not None:
            result.stalled += 1
            route[2] += 1
            if flagged_at is not None and flagged_at < stalled_at:
                result.stalled_flagged_early += 1
                route[3] += 1
                result.hours_earlier.append((stalled_at - flagged_at).total_seconds() / 3600)
        elif signed is not None:
            result.delivered_without_stall += 1
            result.false_flags += flagged_at is not None
            route[4] += flagged_at is not None
    return result

"""Generated tracking history for the route backtest (`manage.py route_backtest --generate`): one new shop whose
parcels travel four routes with different profiles, a few per cent of them stalling (some never arriving).

Written with bulk_create straight into the tables, as the benchmarks do: what is generated is history, not actions."""
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from logistics.models import Shipment, TrackingEvent
from orders.models import Buyer, Order
from shop_admin.kernel.models import Shop, Warehouse

ORIGIN = "浙江省"


@dataclass(frozen=True)
class RouteProfile:
    carrier: str
    destination: str
    hops: int  # scans between shipping and signing
    hop_hours: float  # median hours between two scans
    spread: float  # lognormal sigma of a gap


PROFILES = (
    RouteProfile("SF", "浙江省", hops=3, hop_hours=5, spread=0.4),  # same province, next day
    RouteProfile("ZTO", "广东省", hops=5, hop_hours=9, spread=0.5),
    RouteProfile("YTO", "四川省", hops=6, hop_hours=12, spread=0.55),
    RouteProfile("JT", "新疆维吾尔自治区", hops=7, hop_hours=18, spread=0.6),  # remote: long silent legs are normal
)
STALL_SHARE = 0.04  # parcels with one silent leg of more than 72 h
LOST_SHARE = 0.3  # of those, never signed


def _gaps(profile: RouteProfile, rng: random.Random, stalls: bool) -> tuple[list[float], int | None]:
    """Hours between shipping, each scan and the signature; the index of the silent leg of a stalling parcel."""
    gaps = [rng.lognormvariate(math.log(profile.hop_hours), profile.spread) for _ in range(profile.hops + 1)]
    stall = rng.randrange(1, len(gaps)) if stalls else None
    if stall is not None:
        gaps[stall] = rng.uniform(75, 160)
    return gaps, stall


def backtest_history_generate(*, parcels: int, now: datetime, days: int = 120, seed: int = 22) -> Shop:
    """A new shop with `parcels` parcels shipped over the last `days` days, their scans and signatures."""
    rng = random.Random(seed)
    shop = Shop.objects.create(name=f"线路回测店 {now:%Y%m%d%H%M%S}")
    Warehouse.objects.create(shop=shop, name="杭州仓", province=ORIGIN)
    buyer = Buyer.objects.create(name=f"route-backtest-{shop.pk}")
    plans = []
    for n in range(parcels):
        profile = rng.choice(PROFILES)
        shipped_at = now - timedelta(hours=rng.uniform(24, days * 24))
        stalls = rng.random() < STALL_SHARE
        gaps, stall = _gaps(profile, rng, stalls)
        moments, at = [], shipped_at
        for gap in gaps:
            at += timedelta(hours=gap)
            moments.append(at)
        if stall is not None and rng.random() < LOST_SHARE:
            scans, signed_at = moments[:stall], None  # the silent leg never ends
        else:
            scans, signed_at = moments[:-1], moments[-1]
        if signed_at is not None and signed_at > now:
            signed_at = None  # still on its way today
        scans = [m for m in scans if m <= now]
        plans.append((n, profile, shipped_at, scans, signed_at))
    orders = Order.objects.bulk_create(
        [
            Order(
                order_no=f"8{shop.pk:05d}{n:012d}", shop=shop, buyer=buyer, status="delivered" if signed_at else "shipped",
                items_total=Decimal("59.90"), payable=Decimal("59.90"), paid_amount=Decimal("59.90"),
                created_at=shipped_at - timedelta(hours=5), paid_at=shipped_at - timedelta(hours=4), shipped_at=shipped_at,
                recipient_name="张三", phone="13800138000", province=profile.destination, city="某市", district="某区", address_detail="某路1号",
            )
            for n, profile, shipped_at, _scans, signed_at in plans
        ],
        batch_size=2000,
    )
    shipments = Shipment.objects.bulk_create(
        [
            Shipment(
                order=order, shop=shop, carrier=profile.carrier, tracking_no=f"RB{shop.pk:05d}{n:08d}", shipped_at=shipped_at,
                status="signed" if signed_at else "in_transit", signed_at=signed_at,
                last_event_at=signed_at or (scans[-1] if scans else None),
                last_event_code="signed" if signed_at else ("in_transit" if scans else ""),
                origin_province=ORIGIN, destination_province=profile.destination,
                stall_deadline=(signed_at or (scans[-1] if scans else shipped_at)) + timedelta(hours=72),
            )
            for order, (n, profile, shipped_at, scans, signed_at) in zip(orders, plans)
        ],
        batch_size=2000,
    )
    events = []
    for shipment, (_n, _profile, _shipped_at, scans, signed_at) in zip(shipments, plans):
        steps = [("collected" if i == 0 else "in_transit", at) for i, at in enumerate(scans)] + ([("signed", signed_at)] if signed_at else [])
        events += [
            TrackingEvent(shipment=shipment, order_id=shipment.order_id, code=code, occurred_at=at, dedupe_key=f"rb-{i}")
            for i, (code, at) in enumerate(steps)
        ]
    TrackingEvent.objects.bulk_create(events, batch_size=5000)
    return shop

"""Constructed tracking history for the route tests: delivered parcels with known transit times and scan gaps."""
import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from logistics.models import Shipment, TrackingEvent
from orders.models import Order

_seq = itertools.count(1)
ADDRESS = {"recipient_name": "张三", "phone": "13800138000", "city": "某市", "district": "某区", "address_detail": "某路1号"}


def parcel(
    *, shop, buyer, shipped_at: datetime, scans_after: list[float], signed_after: float | None, carrier: str = "SF",
    origin: str = "浙江省", destination: str = "浙江省", tracking_no: str | None = None,
) -> Shipment:
    """One parcel of a new order: scans (in_transit) the given hours after shipping, signed `signed_after` hours after
    shipping (None: still on the road)."""
    n = next(_seq)
    order = Order.objects.create(
        order_no=f"9{n:017d}", shop=shop, buyer=buyer, status="delivered" if signed_after is not None else "shipped",
        items_total=Decimal("59.90"), payable=Decimal("59.90"), paid_amount=Decimal("59.90"), created_at=shipped_at - timedelta(hours=3),
        paid_at=shipped_at - timedelta(hours=2), shipped_at=shipped_at, province=destination, **ADDRESS,
    )
    signed_at = shipped_at + timedelta(hours=signed_after) if signed_after is not None else None
    moments = [shipped_at + timedelta(hours=h) for h in scans_after]
    last = signed_at or (moments[-1] if moments else None)
    shipment = Shipment.objects.create(
        order=order, shop=shop, carrier=carrier, tracking_no=tracking_no or f"SF{n:013d}", shipped_at=shipped_at,
        status="signed" if signed_at else "in_transit", signed_at=signed_at, last_event_at=last,
        last_event_code=("signed" if signed_at else "in_transit") if last else "", origin_province=origin,
        destination_province=destination, stall_deadline=(last or shipped_at) + timedelta(hours=72),
    )
    events = [("in_transit", at) for at in moments] + ([("signed", signed_at)] if signed_at else [])
    TrackingEvent.objects.bulk_create(
        TrackingEvent(shipment=shipment, order=order, code=code, occurred_at=at, dedupe_key=f"{shipment.pk}-{i}")
        for i, (code, at) in enumerate(events)
    )
    return shipment


def delivered_route(*, shop, buyer, now: datetime, count: int = 20, first_transit: int = 10, **route) -> list[Shipment]:
    """`count` parcels signed on one route, transit first_transit, first_transit + 1, ... hours; each scanned once 1 h
    after shipping, so its largest gap is its transit minus one hour."""
    return [
        parcel(shop=shop, buyer=buyer, shipped_at=now - timedelta(days=10, hours=i), scans_after=[1], signed_after=first_transit + i, **route)
        for i in range(count)
    ]

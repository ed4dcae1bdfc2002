"""Tracking pushes from carriers: each event stored once, the parcel following its latest event by time, the order following the parcel.

A push may repeat events already stored or bring older ones late. Events are
inserted with ON CONFLICT DO NOTHING on (shipment, dedupe_key); only the newest
event by its own time (not by arrival) moves the parcel, and through it the
order: signed delivers, rejected rejects. The shipment row is locked for the
push, so two pushes of one parcel queue up while pushes of other parcels run.
"""
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.constants import (
    CODE_RANK,
    SHIPMENT_MOVING,
    STATUS_AFTER_EVENT,
    ShipmentStatus,
    TrackingCode,
)
from logistics.models import Shipment
from logistics.selectors import shipment_counts_changed
from logistics.services.intercept import shipment_intercept_follow
from logistics.services.parcel_alerts import parcel_alerts_follow
from logistics.services.ship import carrier_parse
from logistics.services.stall import (
    logistics_exception_clear,
    logistics_exception_raise,
)
from logistics.sql import shipment_lock_and_insert_row, shipment_state_write
from orders.constants import OrderStatus
from orders.models import Order
from orders.services.lifecycle import order_mark_delivered, order_mark_rejected
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.errors import Invalid, NotFound


@dataclass(frozen=True)
class TrackingReport:
    """One event as the carrier pushed it."""

    code: str
    occurred_at: datetime
    location: str = ""
    description: str = ""

    @property
    def dedupe_key(self) -> str:
        moment = self.occurred_at.timestamp()
        raw = f"{self.code}|{moment:.3f}|{self.location.strip()}|{self.description.strip()}"
        return hashlib.sha1(raw.encode()).hexdigest()

    @property
    def order_key(self) -> tuple[datetime, int]:
        return (self.occurred_at, CODE_RANK[self.code])


@dataclass(frozen=True)
class TrackingApplied:
    applied: int  # new events stored
    duplicates: int  # events already known (or repeated within the push)
    status: str  # the parcel's status afterwards


_SHIPMENT_ATTNAMES = [field.attname for field in Shipment._meta.concrete_fields]


def _shipment_lock_and_insert(*, carrier: str, tracking_no: str, reports: list[TrackingReport]) -> tuple[Shipment | None, list[TrackingReport]]:
    """Lock the parcel and store the reports it does not have yet, in one statement; return it and the reports that were new.

    One round trip on the hottest path: a data-modifying CTE locks the parcel row, inserts
    the events (passed as one JSON array, so the statement's text never changes) with ON
    CONFLICT DO NOTHING on (shipment, dedupe_key) and returns the row with the keys
    actually inserted. Read through the cursor: a raw queryset's per-parameter adaptation
    and per-row model set-up were a third of a push's CPU.
    """
    unique = {report.dedupe_key: report for report in reports}
    if not unique:
        return Shipment.objects.select_for_update().filter(carrier=carrier, tracking_no=tracking_no).first(), []
    # One JSON text for all the events: the driver quotes one string instead of dumping five lists item by item.
    events = json.dumps(
        [
            {
                "code": r.code,
                "occurred_at": r.occurred_at.isoformat(),
                "location": r.location[:100],
                "description": r.description[:300],
                "dedupe_key": key,
            }
            for key, r in unique.items()
        ],
        ensure_ascii=False,
    )
    row = shipment_lock_and_insert_row(carrier=carrier, tracking_no=tracking_no, events_json=events, received_at=timezone.now())
    if row is None:
        return None, []
    shipment = Shipment.from_db(connection.alias, _SHIPMENT_ATTNAMES, row[:-1])
    return shipment, [unique[key] for key in row[-1]]


def _shipment_state_write(shipment: Shipment) -> None:
    """The parcel's new state after its latest event, in one fixed UPDATE (a model save() cost twice as much CPU)."""
    shipment_state_write(
        shipment_id=shipment.pk, status=shipment.status, last_event_at=shipment.last_event_at, last_event_code=shipment.last_event_code,
        signed_at=shipment.signed_at, stalled_at=shipment.stalled_at, stall_deadline=shipment.stall_deadline,
    )


def _status_after(current: str, code: str) -> str:
    """Where the parcel stands once `code` is its latest event; a signed parcel stays signed, a returning one returning."""
    following = STATUS_AFTER_EVENT[code]
    if current == ShipmentStatus.SIGNED:
        return current
    if current in (ShipmentStatus.REJECTED, ShipmentStatus.RETURNING) and following == ShipmentStatus.IN_TRANSIT:
        return current
    return following


def _order_follow(shipment: Shipment, before: str, new: list[TrackingReport], latest: TrackingReport, actor: Actor) -> None:
    """The order follows its parcel: signed (every parcel of the order signed) delivers it, refused at the door rejects it.

    A push may bring the refusal and the return trip at once: the parcel is then
    returning, and the refusal among the new events still rejects the order.
    """
    signed = shipment.status == ShipmentStatus.SIGNED and before != ShipmentStatus.SIGNED
    refusal = next((r for r in sorted(new, key=lambda r: r.order_key, reverse=True) if r.code == TrackingCode.REJECTED), None)
    rejected = before not in (ShipmentStatus.SIGNED, ShipmentStatus.REJECTED) and shipment.status != ShipmentStatus.SIGNED and refusal
    if not (signed or rejected):
        return
    # Its state only: the order services lock and read the whole row themselves.
    order = Order.objects.only("pk", "status").get(pk=shipment.order_id)
    if order.status != OrderStatus.SHIPPED:  # a reship, or an order that moved on (refunded, confirmed by the buyer)
        return
    if signed:
        others_moving = (
            Shipment.objects.filter(order_id=order.pk, status__in=SHIPMENT_MOVING, is_reship=False).exclude(pk=shipment.pk).exists()
        )
        if not others_moving:
            order_mark_delivered(order=order, actor=actor, at=latest.occurred_at)
    else:
        order_mark_rejected(order=order, actor=actor, reason=refusal.description or _("买家拒收"))


def tracking_events_apply(*, carrier: str, tracking_no: str, reports: list[TrackingReport]) -> TrackingApplied:
    """Apply a carrier's push to the parcel (carrier, tracking number); applying it again changes nothing."""
    code = carrier_parse(carrier)
    if code is None:
        raise Invalid(_("不支持的快递公司：%(c)s") % {"c": carrier}, code="invalid_input", details={"fields": {"carrier": _("不支持的快递公司")}})
    tracking_no = (tracking_no or "").strip().upper()
    actor = Actor.channel(f"logistics:{code}")
    with transaction.atomic():
        shipment, new = _shipment_lock_and_insert(carrier=code, tracking_no=tracking_no, reports=reports)
        if shipment is None:
            raise NotFound(
                _("没有快递单号为%(no)s的包裹") % {"no": tracking_no},
                code="shipment_not_found",
                details={"fields": {"tracking_no": tracking_no}},
            )
        result = TrackingApplied(applied=len(new), duplicates=len(reports) - len(new), status=shipment.status)
        if not new:
            return result
        latest = max(new, key=lambda r: r.order_key)
        known = (shipment.last_event_at, CODE_RANK.get(shipment.last_event_code, -1)) if shipment.last_event_at else None
        if known is not None and latest.order_key <= known:
            return result  # late arrivals from the parcel's past: stored for the timeline, the state stays
        before, was_stalled, had_scan = shipment.status, shipment.stalled_at is not None, shipment.last_event_at is not None
        was_flagged = was_stalled or shipment.last_event_code == TrackingCode.PROBLEM
        shipment.status = _status_after(before, latest.code)
        shipment.last_event_at, shipment.last_event_code = latest.occurred_at, latest.code
        if shipment.status == ShipmentStatus.SIGNED and shipment.signed_at is None:
            shipment.signed_at = latest.occurred_at
        if shipment.status in SHIPMENT_MOVING:
            shipment.stall_deadline = latest.occurred_at + settings.LOGISTICS_STALL_AFTER
            if shipment.stalled_at is not None:
                # The parcel's wake-up chain ended when it stalled; a new one starts. Otherwise the pending job
                # finds the later deadline and sleeps again: no Redis call per push.
                deadline_schedule(name="shipment_stall_timeout", pk=shipment.pk, at=shipment.stall_deadline)
        else:
            shipment.stall_deadline = None
        shipment.stalled_at = None
        _shipment_state_write(shipment)
        if shipment.status != before or was_stalled:
            shipment_counts_changed(shop_ids={shipment.shop_id})
        if latest.code == TrackingCode.PROBLEM:
            logistics_exception_raise(shipment=shipment, actor=actor, reason="problem", note=latest.description)
        elif was_flagged:
            logistics_exception_clear(shipment=shipment, actor=Actor.system("shipment_stall_timeout"))
        parcel_alerts_follow(shipment=shipment, had_scan=had_scan)
        _order_follow(shipment, before, new, latest, actor)
        shipment_intercept_follow(shipment=shipment, actor=actor)
        return TrackingApplied(applied=len(new), duplicates=len(reports) - len(new), status=shipment.status)

"""Tracking pushes from carriers: each event stored once, the parcel following its latest event by time, the order following the parcel.

A push may repeat events already stored or bring older ones late. Events are
inserted with ON CONFLICT DO NOTHING on (shipment, dedupe_key); only the newest
event by its own time (not by arrival) moves the parcel, and through it the
order: signed delivers, rejected rejects. The shipment row is locked for the
push, so two pushes of one parcel queue up while pushes of other parcels run.
"""
import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.constants import CODE_RANK, SHIPMENT_MOVING, STATUS_AFTER_EVENT, ShipmentStatus, TrackingCode
from logistics.models import Shipment, TrackingEvent
from logistics.services.intercept import shipment_intercept_follow
from logistics.services.ship import carrier_parse
from logistics.services.stall import logistics_exception_clear, logistics_exception_raise
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


def _shipment_lock_and_insert(*, carrier: str, tracking_no: str, reports: list[TrackingReport]) -> tuple[Shipment | None, list[TrackingReport]]:
    """Lock the parcel and store the reports it does not have yet, in one statement; return it and the reports that were new.

    One round trip instead of two on the hottest path: a data-modifying CTE locks the
    parcel row, inserts the events with ON CONFLICT DO NOTHING on (shipment, dedupe_key)
    and returns the row with the keys actually inserted.
    """
    unique = {report.dedupe_key: report for report in reports}
    if not unique:
        return Shipment.objects.select_for_update().filter(carrier=carrier, tracking_no=tracking_no).first(), []
    rows, params = [], [carrier, tracking_no]
    for key, report in unique.items():
        rows.append("(%s::varchar, %s::timestamptz, %s::varchar, %s::varchar, %s::varchar)")
        params += [report.code, report.occurred_at, report.location[:100], report.description[:300], key]
    params.append(timezone.now())
    shipments, events = Shipment._meta.db_table, TrackingEvent._meta.db_table
    sql = (
        f"WITH s AS (SELECT * FROM {shipments} WHERE carrier = %s AND tracking_no = %s FOR UPDATE), "
        f"v (code, occurred_at, location, description, dedupe_key) AS (VALUES {', '.join(rows)}), "
        f"ins AS (INSERT INTO {events} (shipment_id, order_id, code, occurred_at, location, description, dedupe_key, received_at) "
        f"SELECT s.id, s.order_id, v.code, v.occurred_at, v.location, v.description, v.dedupe_key, %s FROM s CROSS JOIN v "
        f"ON CONFLICT (shipment_id, dedupe_key) DO NOTHING RETURNING dedupe_key) "
        f"SELECT s.*, ARRAY(SELECT dedupe_key FROM ins) AS inserted_keys FROM s"
    )
    found = list(Shipment.objects.raw(sql, params))
    if not found:
        return None, []
    return found[0], [unique[key] for key in found[0].inserted_keys]


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
    order = Order.objects.get(pk=shipment.order_id)
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
        before, was_flagged = shipment.status, shipment.stalled_at is not None or shipment.last_event_code == TrackingCode.PROBLEM
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
        shipment.save(update_fields=["status", "last_event_at", "last_event_code", "signed_at", "stalled_at", "stall_deadline"])
        if latest.code == TrackingCode.PROBLEM:
            logistics_exception_raise(shipment=shipment, actor=actor, reason="problem", note=latest.description)
        elif was_flagged:
            logistics_exception_clear(shipment=shipment, actor=Actor.system("shipment_stall_timeout"))
        _order_follow(shipment, before, new, latest, actor)
        shipment_intercept_follow(shipment=shipment, actor=actor)
        return TrackingApplied(applied=len(new), duplicates=len(reports) - len(new), status=shipment.status)

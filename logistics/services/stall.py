"""Stalled parcels: no event for LOGISTICS_STALL_AFTER while on the road opens the order's logistics exception; tracking resumed closes it.

The same exception (kind stalled_logistics, the one exception record) also carries
a problem parcel (the carrier's 疑难件): `data.reason` says which.
"""
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from logistics.constants import SHIPMENT_MOVING, TrackingCode
from logistics.models import Shipment, TrackingEvent
from logistics.selectors import shipment_counts_changed
from orders.constants import ExceptionKind, ExceptionStatus
from orders.models import Order, OrderException
from orders.services.exceptions import exception_open, exception_resolve
from orders.services.exceptions_bulk import ExceptionRaise, exceptions_open_many
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.deadlines import deadline_schedule


def idle_hours(shipment: Shipment, now: datetime | None = None) -> int:
    """Whole hours since the parcel's last sign of life (its last event, or shipping)."""
    since = shipment.last_event_at or shipment.shipped_at
    return max(0, int(((now or timezone.now()) - since).total_seconds() // 3600))


def _event_brief(event: TrackingEvent | None) -> dict | None:
    if event is None:
        return None
    return {
        "code": event.code,
        "time": timezone.localtime(event.occurred_at).isoformat(),
        "location": event.location,
        "description": event.description,
    }


def _last_events(shipment_ids: list[int]) -> dict[int, TrackingEvent]:
    """The newest event of each parcel, in one query."""
    events = (
        TrackingEvent.objects.filter(shipment_id__in=shipment_ids)
        .only("shipment_id", "code", "occurred_at", "location", "description")
        .order_by("shipment_id", "-occurred_at", "-pk")
        .distinct("shipment_id")
    )
    return {event.shipment_id: event for event in events}


def _exception_text(shipment: Shipment, *, reason: str, note: str, hours: int) -> tuple[str, dict]:
    """The exception's detail as a stored text (msgid, params)."""
    if reason == "stalled":
        return STALLED_TEXT, {"carrier": shipment.carrier, "no": shipment.tracking_no, "hours": hours}
    return gettext_noop("疑难件：%(carrier)s %(no)s %(note)s"), {"carrier": shipment.carrier, "no": shipment.tracking_no, "note": note}


STALLED_TEXT = gettext_noop("物流停滞：%(carrier)s %(no)s 已 %(hours)d 小时无新轨迹")


def _exception_data(shipment: Shipment, *, reason: str, hours: int, last_event: TrackingEvent | None) -> dict:
    """The evidence a merchant (or the platform) reads: which parcel, its last event, how long it has been quiet."""
    return {
        "reason": reason,
        "shipment_id": shipment.pk,
        "carrier": shipment.carrier,
        "tracking_no": shipment.tracking_no,
        "last_event": _event_brief(last_event),
        "idle_hours": hours,
    }


def logistics_exception_raise(*, shipment: Shipment, actor: Actor, reason: str, note: str = "") -> OrderException:
    """Open the order's logistics exception for this parcel (a no-op if it is open): a problem parcel, or a stalled one."""
    hours = idle_hours(shipment)
    detail, detail_params = _exception_text(shipment, reason=reason, note=note, hours=hours)
    return exception_open(
        order=Order.objects.get(pk=shipment.order_id),
        kind=ExceptionKind.STALLED_LOGISTICS,
        actor=actor,
        detail=detail,
        detail_params=detail_params,
        data=_exception_data(shipment, reason=reason, hours=hours, last_event=_last_events([shipment.pk]).get(shipment.pk)),
    )


def logistics_exception_clear(*, shipment: Shipment, actor: Actor) -> None:
    """Tracking resumed: close the order's logistics exception unless another of its parcels is still stalled or a problem."""
    others = Shipment.objects.filter(order_id=shipment.order_id).exclude(pk=shipment.pk)
    if others.filter(stalled_at__isnull=False).exists() or others.filter(last_event_code=TrackingCode.PROBLEM, status__in=SHIPMENT_MOVING).exists():
        return
    for exception in OrderException.objects.filter(
        order_id=shipment.order_id, kind=ExceptionKind.STALLED_LOGISTICS, status=ExceptionStatus.OPEN
    ):
        exception_resolve(
            exception=exception, actor=actor, resolution=gettext_noop("物流已恢复：%(no)s 有新轨迹"), resolution_params={"no": shipment.tracking_no}
        )


def stalled_flag_clear_on_resolve(*, exception: OrderException, actor: Actor) -> None:
    """The merchant resolved the order's logistics exception: its parcels stop showing as stalled and their stall clock restarts.

    A parcel that stays quiet for another LOGISTICS_STALL_AFTER from now stalls again
    and raises a new exception; one that tracking already cleared has nothing to clear.
    """
    now = timezone.now()
    restart = now + settings.LOGISTICS_STALL_AFTER
    parcels = list(
        Shipment.objects.select_for_update()
        .filter(order_id=exception.order_id, stalled_at__isnull=False, status__in=SHIPMENT_MOVING)
        .values_list("pk", flat=True)
    )
    if not parcels:
        return
    Shipment.objects.filter(pk__in=parcels).update(stalled_at=None, stall_deadline=restart)
    shipment_counts_changed(shop_ids={exception.shop_id})
    for pk in parcels:
        # The parcel's wake-up chain ended when it stalled: a new one starts.
        deadline_schedule(name="shipment_stall_timeout", pk=pk, at=restart)


def shipment_stall_due(now: datetime) -> QuerySet:
    """Parcels on the road, not yet stalled, past their stall deadline."""
    return Shipment.objects.filter(status__in=SHIPMENT_MOVING, stalled_at__isnull=True, stall_deadline__lte=now)


def shipment_stall_timeout(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline: parcels on the road with no event past their stall deadline are marked stalled and raise the exception.

    Pushes move `stall_deadline` later without touching Redis; the one job a parcel has
    pending wakes up, finds the deadline moved, and sleeps again until the new one.
    """
    with transaction.atomic():
        due = shipment_stall_due(now).order_by("stall_deadline")
        if ids is not None:
            due = due.filter(pk__in=ids)
            for pk, later in Shipment.objects.filter(
                pk__in=ids, status__in=SHIPMENT_MOVING, stalled_at__isnull=True, stall_deadline__gt=now
            ).values_list("pk", "stall_deadline"):
                deadline_schedule(name="shipment_stall_timeout", pk=pk, at=later)
        # Only what the exception needs is read: a sweep batch is hundreds of rows, and model loading is its main cost.
        fields = ("pk", "order_id", "carrier", "tracking_no", "shipped_at", "last_event_at")
        shipments = list(due.only(*fields).select_for_update(skip_locked=True)[: settings.SWEEP_BATCH_SIZE])
        if not shipments:
            return 0
        Shipment.objects.filter(pk__in=[s.pk for s in shipments]).update(stalled_at=now)
        orders = Order.objects.only("pk", "shop_id", "status").in_bulk({s.order_id for s in shipments})
        shipment_counts_changed(shop_ids={order.shop_id for order in orders.values()})
        last_events = _last_events([s.pk for s in shipments])
        raises = []
        for shipment in shipments:
            hours = idle_hours(shipment, now)
            raises.append(
                ExceptionRaise(
                    order=orders[shipment.order_id],
                    detail=STALLED_TEXT,
                    detail_params={"carrier": shipment.carrier, "no": shipment.tracking_no, "hours": hours},
                    data=_exception_data(shipment, reason="stalled", hours=hours, last_event=last_events.get(shipment.pk)),
                )
            )
        exceptions_open_many(kind=ExceptionKind.STALLED_LOGISTICS, actor=Actor.system("shipment_stall_timeout"), raises=raises)
        return len(shipments)

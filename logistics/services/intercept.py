"""Interception (拦截): asking the carrier to stop a parcel on its way and bring it back, and learning from the tracking how it ended.

A refund-only claim on a shipped order is paid once the goods are stopped (domain rules:
"not yet signed -> intercept the parcel, then refund; signed -> negotiate"). Logistics
records the request on the parcel with its timeline event; the carrier's pushes say the
outcome -- returned (退回, or refused at the door) means the interception worked, signed means
it came too late -- which is recorded once, with its event, and handed to whoever asked
through a handler that app registered (logistics knows no after-sale cases).
"""
import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from logistics.constants import InterceptResult, ShipmentStatus
from logistics.events import parcel_intercept_requested_event, parcel_intercept_result_event
from logistics.models import Shipment
from orders.models import Order
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import DomainError

logger = logging.getLogger(__name__)

# Who asked, by the prefix of `intercept_source` ("aftersale" for "aftersale:<id>") -> what to do with the outcome.
_outcome_handlers: dict[str, Callable[..., None]] = {}


def intercept_outcome_register(*, source: str, handler: Callable[..., None]) -> None:
    """An upper app learns how its interceptions end: handler(shipment=..., source_id=..., actor=...), in the push's transaction."""
    _outcome_handlers[source] = handler


def shipments_interceptable(*, order_id: int) -> list[Shipment]:
    """The order's own parcels still on their way to the buyer (not reships): what an interception stops."""
    return list(Shipment.objects.filter(order_id=order_id, status=ShipmentStatus.IN_TRANSIT, is_reship=False).order_by("pk"))


def shipment_intercept_request(*, shipment: Shipment, actor: Actor, reason: str, source: str) -> Shipment:
    """Ask the carrier to stop the parcel and bring it back; asking again changes nothing. The caller holds the order's lock."""
    with transaction.atomic():
        shipment = Shipment.objects.select_for_update().get(pk=shipment.pk)
        if shipment.intercept_requested_at is not None:
            return shipment
        shipment.intercept_requested_at = timezone.now()
        shipment.intercept_source = source[:40]
        shipment.save(update_fields=["intercept_requested_at", "intercept_source"])
        parcel_intercept_requested_event(order=Order.objects.get(pk=shipment.order_id), actor=actor, shipment=shipment, reason=reason)
    return shipment


def shipment_intercept_follow(*, shipment: Shipment, actor: Actor) -> None:
    """After a push moved an intercepted parcel (the caller holds its lock): record how the interception ended, once, and tell
    whoever asked. Back to the shop or refused at the door: returned. Signed: too late."""
    if shipment.intercept_requested_at is None or shipment.intercept_result:
        return
    if shipment.status in (ShipmentStatus.RETURNING, ShipmentStatus.REJECTED):
        shipment.intercept_result = InterceptResult.RETURNED
    elif shipment.status == ShipmentStatus.SIGNED:
        shipment.intercept_result = InterceptResult.SIGNED
    else:
        return
    shipment.intercept_result_at = timezone.now()
    shipment.save(update_fields=["intercept_result", "intercept_result_at"])
    parcel_intercept_result_event(order=Order.objects.get(pk=shipment.order_id), actor=actor, shipment=shipment)
    prefix, _sep, source_id = shipment.intercept_source.partition(":")
    handler = _outcome_handlers.get(prefix)
    if handler is None or not source_id.isdigit():
        return
    try:
        with transaction.atomic():
            handler(shipment=shipment, source_id=int(source_id), actor=actor)
    except DomainError as exc:  # the push is still stored; the outcome stays on the parcel for a person to act on
        logger.warning("interception outcome of parcel %s for %s: %s", shipment.pk, shipment.intercept_source, exc.message)

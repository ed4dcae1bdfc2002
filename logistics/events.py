"""Order timeline entries logistics writes, one function per kind; each says what its `data` holds."""
from logistics.constants import LogisticsEventKind
from orders.events import order_event_append
from orders.models import Order, OrderEvent
from shop_admin.kernel.actors import Actor


def parcel_added_event(*, order: Order, actor: Actor, shipment) -> OrderEvent:
    """A further parcel of an order already shipped. data: carrier, tracking_no, door_delivery."""
    return order_event_append(
        order=order,
        kind=LogisticsEventKind.PARCEL_ADDED,
        actor=actor,
        data={"carrier": shipment.carrier, "tracking_no": shipment.tracking_no, "door_delivery": shipment.door_delivery},
    )


def parcel_reshipped_event(*, order: Order, actor: Actor, shipment, exception_id: int) -> OrderEvent:
    """Signed but not received: a new parcel at the merchant's freight. data: carrier, tracking_no, exception_id."""
    return order_event_append(
        order=order,
        kind=LogisticsEventKind.PARCEL_RESHIPPED,
        actor=actor,
        data={"carrier": shipment.carrier, "tracking_no": shipment.tracking_no, "exception_id": exception_id, "freight_payer": "merchant"},
    )


def not_received_answered_event(*, order: Order, actor: Actor, note: str, evidence: list[str], exception_id: int) -> OrderEvent:
    """Signed but not received: the merchant answers with evidence. reason: the note. data: evidence urls, exception_id."""
    return order_event_append(
        order=order,
        kind=LogisticsEventKind.NOT_RECEIVED_ANSWERED,
        actor=actor,
        reason=note,
        data={"evidence": evidence, "exception_id": exception_id},
    )


def parcel_intercept_requested_event(*, order: Order, actor: Actor, shipment, reason: str) -> OrderEvent:
    """The carrier is asked to stop the parcel and bring it back. reason: why. data: carrier, tracking_no, source."""
    return order_event_append(
        order=order,
        kind=LogisticsEventKind.INTERCEPT_REQUESTED,
        actor=actor,
        reason=reason,
        data={"carrier": shipment.carrier, "tracking_no": shipment.tracking_no, "source": shipment.intercept_source},
    )


def parcel_intercept_result_event(*, order: Order, actor: Actor, shipment) -> OrderEvent:
    """The tracking says how the interception ended. data: carrier, tracking_no, source, result (returned / signed)."""
    return order_event_append(
        order=order,
        kind=LogisticsEventKind.INTERCEPT_RESULT,
        actor=actor,
        data={
            "carrier": shipment.carrier, "tracking_no": shipment.tracking_no, "source": shipment.intercept_source,
            "result": shipment.intercept_result,
        },
    )

"""Shapes of the logistics API: a ship request, a carrier's tracking push, a parcel in the order view."""

from ninja import Field
from pydantic import BaseModel, field_validator

from logistics.constants import TrackingCode
from shop_admin.kernel.api import ApiDateTime, Schema, time_str


class ShipIn(Schema):
    carrier: str = Field(..., max_length=20)
    tracking_no: str = Field(..., max_length=40)
    door_delivery: bool = Field(False, description="音尊达: door delivery with priority, bought per parcel")
    add_parcel: bool = Field(False, description="a further parcel of an order already shipped (not yet signed)")


class ReshipIn(Schema):
    """A new parcel for a signed order the buyer did not receive; its freight is the merchant's."""

    carrier: str = Field(..., max_length=20)
    tracking_no: str = Field(..., max_length=40)
    door_delivery: bool = Field(False, description="音尊达: door delivery with priority, bought per parcel")


class NotReceivedAnswerIn(Schema):
    note: str = Field(..., min_length=1, max_length=300)
    evidence: list[str] = Field(..., min_length=1, max_length=20, description="urls: locker code, signature, courier photo")


def _no_nul(value):
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL (\\x00) characters")
    return value


class TrackingEventIn(BaseModel):
    """One event of a push. A plain pydantic model, not the API's Schema: a push carries many and this path is hot."""

    code: TrackingCode
    time: ApiDateTime
    location: str = Field("", max_length=100)
    description: str = Field("", max_length=300)

    _text = field_validator("location", "description", mode="before")(_no_nul)


class LogisticsCallbackIn(BaseModel):
    carrier: str = Field(..., min_length=1, max_length=20)
    tracking_no: str = Field(..., min_length=1, max_length=40)
    events: list[TrackingEventIn] = Field(..., max_length=500)

    _text = field_validator("carrier", "tracking_no", mode="before")(_no_nul)


class LogisticsCallbackOut(Schema):
    result: str  # applied / duplicate
    applied: int
    duplicates: int
    status: str


class TrackingEventOut(Schema):
    code: str
    time: str
    location: str
    description: str


class ShipmentOut(Schema):
    carrier: str
    tracking_no: str
    status: str
    shipped_at: str | None
    signed_at: str | None
    last_event_at: str | None
    stalled: bool
    idle_hours: int | None = Field(None, description="hours without a new event, while the parcel is on the road")
    door_delivery: bool = Field(..., description="音尊达")
    is_reship: bool
    freight_payer: str
    events: list[TrackingEventOut] = Field(..., description="oldest first, by the time the carrier gave")


def tracking_event_out(event) -> dict:
    return {"code": event.code, "time": time_str(event.occurred_at), "location": event.location, "description": event.description}


def shipment_out(shipment) -> dict:
    from logistics.constants import SHIPMENT_MOVING
    from logistics.services.stall import idle_hours

    return {
        "carrier": shipment.carrier,
        "tracking_no": shipment.tracking_no,
        "status": shipment.status,
        "shipped_at": time_str(shipment.shipped_at),
        "signed_at": time_str(shipment.signed_at),
        "last_event_at": time_str(shipment.last_event_at),
        "stalled": shipment.stalled_at is not None,
        "idle_hours": idle_hours(shipment) if shipment.status in SHIPMENT_MOVING else None,
        "door_delivery": shipment.door_delivery,
        "is_reship": shipment.is_reship,
        "freight_payer": shipment.freight_payer,
        "events": [tracking_event_out(event) for event in shipment.timeline],
    }


class ParcelRouteOut(Schema):
    carrier: str
    origin_province: str
    destination_province: str
    has_history: bool = Field(..., description="false: too few delivered parcels on this route, the p95 figures are the defaults")


class ParcelOut(Schema):
    """A parcel with the time it has been silent and travelling, against its route's p95 of each."""

    order_no: str
    carrier: str
    tracking_no: str
    status: str
    shipped_at: str
    last_event_at: str | None
    idle_hours: float | None = Field(..., description="hours since the last scan (or shipping); on the road only")
    route_p95_idle_hours: float
    transit_hours: float | None = Field(..., description="hours since shipping, or until signing")
    route_p95_transit_hours: float
    at_risk: bool
    route: ParcelRouteOut


class ParcelFeedOut(Schema):
    parcels: list[ParcelOut]
    next_cursor: str | None


def parcel_out(shipment, hours: dict) -> dict:
    return {
        "order_no": shipment.order.order_no,
        "carrier": shipment.carrier,
        "tracking_no": shipment.tracking_no,
        "status": shipment.status,
        "shipped_at": time_str(shipment.shipped_at),
        "last_event_at": time_str(shipment.last_event_at),
        **{key: value for key, value in hours.items() if key != "route_has_history"},
        "route": {
            "carrier": shipment.carrier, "origin_province": shipment.origin_province,
            "destination_province": shipment.destination_province, "has_history": hours["route_has_history"],
        },
    }

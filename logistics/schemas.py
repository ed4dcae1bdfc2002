"""Shapes of the logistics API: a ship request, a parcel in the order view."""
from ninja import Field

from shop_admin.kernel.api import Schema, time_str


class ShipIn(Schema):
    carrier: str = Field(..., max_length=20)
    tracking_no: str = Field(..., max_length=40)


class ShipmentOut(Schema):
    carrier: str
    tracking_no: str
    status: str
    shipped_at: str | None


def shipment_out(shipment) -> dict:
    return {
        "carrier": shipment.carrier,
        "tracking_no": shipment.tracking_no,
        "status": shipment.status,
        "shipped_at": time_str(shipment.shipped_at),
    }

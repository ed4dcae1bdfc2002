"""Logistics actions: shipping, tracking pushes, stalled parcels, signed-but-not-received."""
from logistics.services.ship import carrier_parse, shipment_create, tracking_validate

__all__ = ["carrier_parse", "shipment_create", "tracking_validate"]

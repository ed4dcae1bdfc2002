"""Template tags of logistics for its own pages and the parts it draws on others: carrier choices, idle time."""
from django import template

from logistics.constants import SHIPMENT_MOVING, Carrier
from logistics.services.stall import idle_hours as shipment_idle_hours

register = template.Library()


@register.simple_tag
def carrier_choices() -> list[tuple[str, str]]:
    return Carrier.choices


@register.simple_tag
def shipment_moving_statuses() -> tuple[str, ...]:
    return tuple(str(s) for s in SHIPMENT_MOVING)


@register.filter
def idle_hours(shipment) -> int:
    return shipment_idle_hours(shipment)

"""Template filters of the console: money as ¥1,234.50, masked phones."""
from decimal import Decimal

from django import template

from orders.addresses import mask_phone

register = template.Library()


@register.filter
def yuan(value) -> str:
    if value is None or value == "":
        return ""
    return f"¥{Decimal(value):,.2f}"


@register.filter
def masked(phone: str) -> str:
    return mask_phone(phone or "")

"""Template filters of the console: money as ¥1,234.50, masked phones."""
from decimal import Decimal

from django import template

from orders.addresses import mask_phone
from orders.constants import OrderStatus

register = template.Library()


@register.filter
def yuan(value) -> str:
    if value is None or value == "":
        return ""
    return f"¥{Decimal(value):,.2f}"


@register.filter
def masked(phone: str) -> str:
    return mask_phone(phone or "")


@register.filter
def capped(count: int, cap: int) -> str:
    """Counts are capped where counting further would cost a scan; beyond the cap they show as "1000+"."""
    return f"{cap}+" if count > cap else str(count)


@register.filter
def status_label(status: str) -> str:
    return str(OrderStatus(status).label) if status in OrderStatus.values else status

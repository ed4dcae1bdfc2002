"""Template filters of the console: money as ¥1,234.50, masked phones."""
from decimal import Decimal

from django import template

from orders.addresses import mask_phone
from orders.constants import OrderStatus
from orders.selectors import TAB_COUNT_CAP

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
def capped(count: int) -> str:
    """Counts are capped where counting further would cost a full scan; the cap shows as "10000+"."""
    return f"{TAB_COUNT_CAP}+" if count > TAB_COUNT_CAP else str(count)


@register.filter
def status_label(status: str) -> str:
    return str(OrderStatus(status).label) if status in OrderStatus.values else status

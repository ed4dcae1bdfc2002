"""Template filters of the console: money as ¥1,234.50, masked phones."""
from decimal import Decimal

from django import template

from shop_admin.kernel.background import background_job_kind_label
from shop_admin.kernel.text import phone_mask

register = template.Library()


@register.filter
def yuan(value) -> str:
    if value is None or value == "":
        return ""
    return f"¥{Decimal(value):,.2f}"


@register.filter
def masked(phone: str) -> str:
    return phone_mask(phone or "")


@register.filter
def capped(count: int, cap: int) -> str:
    """Counts are capped where counting further would cost a scan; beyond the cap they show as "1000+"."""
    return f"{cap}+" if count > cap else str(count)



@register.filter
def job_kind_label(kind: str) -> str:
    """The label an app registered for its kind of background job."""
    return background_job_kind_label(kind)

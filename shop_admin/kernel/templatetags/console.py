"""Template filters of the console: money as ¥1,234.50, masked phones, whether the user's role may open a page."""
from decimal import Decimal

from django import template
from django.utils import timezone

from shop_admin.kernel.background import background_job_kind_label
from shop_admin.kernel.console import page_perm
from shop_admin.kernel.text import phone_mask

register = template.Library()


@register.simple_tag(takes_context=True)
def may_open(context, url: str) -> bool:
    """Whether the role may open the console page at `url`: the check its view makes (console.page_perm) draws the link."""
    perm = page_perm(url)
    return perm is None or perm in context.get("shop_perms", ())


@register.filter
def yuan(value) -> str:
    if value is None or value == "":
        return ""
    return f"¥{Decimal(value):,.2f}"


@register.simple_tag
def shop_now() -> str:
    """The clock of the header in the current (shop) time zone, as `{% now "Y-m-d H:i" %}` prints it, without building
    a date formatter on every page."""
    return timezone.localtime().strftime("%Y-%m-%d %H:%M")


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


@register.filter
def duration_short(value) -> str:
    """A timedelta as a merchant reads it: 2天3小时, 5小时12分, 8分."""
    from django.utils.translation import gettext as _

    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)d天%(h)d小时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d小时%(m)d分") % {"h": hours, "m": mins}
    return _("%(m)d分") % {"m": mins}

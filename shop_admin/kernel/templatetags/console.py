"""Template filters of the console: money as ¥1,234.50, masked contact details, deadlines with the time left or overdue,
whether the user's role may open a page."""
from datetime import datetime, timedelta
from decimal import Decimal

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from shop_admin.kernel.background import background_job_kind_label
from shop_admin.kernel.console import input_kept, page_perm
from shop_admin.kernel.text import address_detail_mask, name_mask, phone_mask

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
def masked_name(name: str) -> str:
    return name_mask(name or "")


@register.filter
def masked_detail(detail: str) -> str:
    return address_detail_mask(detail or "")


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


def _clock(seconds: int) -> str:
    # The same text static/console/deadline.js counts down with, so the page reads the same before and after it runs.
    hours, minutes = divmod(max(seconds, 0) // 60, 60)
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"


_DEADLINE_LABELS: dict[str | None, tuple[str, str]] = {}  # language -> (overdue, left) templates with "{}" for the time


def deadline_html(at: datetime | None, *, now: datetime, soon: timedelta | None = None, date_format: str = "%m-%d %H:%M") -> SafeString:
    """A deadline as every console page shows it: its shop time, then the time left, or 已超时 / Overdue in red.

    Passed means at or before `now`; due soon means within `soon` (DASHBOARD_SHIP_SOON) and not passed, in amber: the
    same split as the order list's `ship_due` filter and the dashboard's tiles. The badge's `data-deadline` lets
    static/console/deadline.js keep counting on an open page. The one renderer: templates use `{% deadline %}`, the
    hand-written rows (order list, exception centre) call it.
    """
    if at is None:
        return mark_safe("—")
    soon = settings.DASHBOARD_SHIP_SOON if soon is None else soon
    language = get_language()
    labels = _DEADLINE_LABELS.get(language)
    if labels is None:
        labels = _DEADLINE_LABELS[language] = (
            escape(_("已超时 %(time)s") % {"time": "{}"}),
            escape(_("剩余 %(time)s") % {"time": "{}"}),
        )
    late_label, left_label = labels
    local = timezone.localtime(at)
    left = int((at - now).total_seconds())
    if left <= 0:
        state, text = "bad", late_label.replace("{}", _clock(-left))
    else:
        state, text = ("warn" if left <= soon.total_seconds() else ""), left_label.replace("{}", _clock(left))
    iso = local.isoformat()
    return mark_safe(
        f'<span class="deadline"><time datetime="{iso}">{local.strftime(date_format)}</time> '
        f'<span class="badge {state}" data-deadline="{iso}" data-soon="{int(soon.total_seconds())}" '
        f'data-late-label="{late_label}" data-left-label="{left_label}">{text}</span></span>'
    )


@register.simple_tag(takes_context=True)
def deadline(context, at, date_format: str = "%m-%d %H:%M") -> SafeString:
    """`{% deadline order.ship_deadline %}`: `deadline_html` at the page's `now` (or the clock's)."""
    return deadline_html(at, now=context.get("now") or timezone.now(), date_format=date_format)


@register.simple_tag(takes_context=True)
def kept_input(context, form: str) -> dict:
    """`{% kept_input "ship" as kept %}`: what was typed in that form before its refusal (empty dict otherwise)."""
    return input_kept(context.get("request"), form)

"""The exception centre's rows, written in one pass in Python.

The same markup `templates/orders/exception_list.html` drew row by row through the template
engine (a `truncatechars`, `timesince`, two `date` filters and a gettext per row, Django's
`get_kind_display`): at 100,000 open exceptions the rows, not the page's SQL, were most of its
time (tests/perf/README.md). Per-page constants (labels, time zone) are looked up once.
"""
from datetime import datetime

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from orders.constants import ExceptionStatus
from shop_admin.kernel.console import url_around
from shop_admin.kernel.templatetags.console import deadline_html


def _truncated(text: str, length: int = 60) -> str:
    text = str(text or "")
    return Truncator(text).chars(length) if len(text) > length else text


def exception_rows_html(rows: list, *, status: str, now: datetime) -> SafeString:
    """The `<tr>` of each exception of the page (each carries its `order`)."""
    tz = timezone.get_current_timezone()
    is_open = status == ExceptionStatus.OPEN
    badge = "bad" if is_open else "ok"
    button = escape(_("处理") if is_open else _("查看"))
    escalated = f' <span class="badge bad" data-escalated>{escape(_("已升级平台"))}</span>'
    order_url, order_url_end = url_around("orders:detail", "ORDERNO")
    exception_url, exception_url_end = url_around("exceptions:detail", 987654321)
    out = []
    for e in rows:
        no = escape(e.order.order_no)
        if e.deadline and is_open:
            deadline = deadline_html(e.deadline, now=now, date_format="%Y-%m-%d %H:%M")
            if e.escalated_at:
                deadline += escalated
        elif e.deadline:  # settled: the time left no longer matters
            deadline = f"{e.deadline.astimezone(tz):%Y-%m-%d %H:%M}"
        else:
            deadline = "—"
        resolved = ""
        if not is_open:
            at = f"{e.resolved_at.astimezone(tz):%Y-%m-%d %H:%M}" if e.resolved_at else ""
            resolved = (f"\n  <td>{escape(_truncated(e.resolution_text))}<br><span class=\"muted\">"
                        f"{escape(e.resolved_by_label)} · {at}</span></td>")
        out.append(
            "<tr>\n"
            f'  <td><span class="badge {badge}">{escape(e.get_kind_display())}</span></td>\n'
            f'  <td><a href="{order_url}{no}{order_url_end}">{no}</a></td>\n'
            f"  <td>{escape(_truncated(e.detail_text))}</td>\n"
            f"  <td>{escape(timesince(e.opened_at, now))}</td>\n"
            f"  <td>{deadline}</td>{resolved}\n"
            f'  <td><a class="button" href="{exception_url}{e.pk}{exception_url_end}">{button}</a></td>\n'
            "</tr>"
        )
    return mark_safe("".join(out))

"""/deadlines/: the deadline queue of the shop, every app's kinds merged nearest first, with the action the role allows."""
from datetime import datetime

from django.shortcuts import render
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from shop_admin.kernel.console import shop_required, url_around
from shop_admin.kernel.deadline_queue import QueueEntry, deadline_queue_for, deadline_queue_kinds
from shop_admin.kernel.errors import Invalid
from shop_admin.kernel.permissions import Perm
from shop_admin.kernel.templatetags.console import deadline_html

PER_PAGE = 50
WITHIN_CHOICES = ["2h", "24h", "3d", "7d"]


def deadline_rows_html(entries: list[QueueEntry], *, now: datetime) -> SafeString:
    """The `<tr>` of each row of the page, built here: the template engine cost more than the queue's SQL (figures in
    tests/perf/README.md) and a page is 50 rows of the same shape. What is the same for every row of a kind (its label, its
    button's text) or of the page (the links' shape, the case labels) is put into words once per page, not once per row."""
    order_url, order_url_end = url_around("orders:detail", "ORDERNO")
    case_url, case_url_end = url_around("aftersale:detail", 987654321)
    exception_url, exception_url_end = url_around("exceptions:detail", 987654321)
    case_label, exception_label = escape(_("售后 #%(id)s")), escape(_("异常 #%(id)s"))
    kind_texts: dict[str, tuple[str, str, str]] = {}
    out = []
    for entry in entries:
        row = entry.row
        texts = kind_texts.get(row.kind)
        if texts is None:
            texts = kind_texts[row.kind] = (escape(row.kind), escape(str(entry.kind.label)), escape(str(entry.kind.action_label)))
        kind, label, action_label = texts
        no = escape(row.order_no)
        if row.aftersale_id:
            case = f'<a href="{case_url}{row.aftersale_id}{case_url_end}">{case_label % {"id": row.aftersale_id}}</a>'
        elif row.exception_id:
            case = f'<a href="{exception_url}{row.exception_id}{exception_url_end}">{exception_label % {"id": row.exception_id}}</a>'
        elif row.review_id:
            case = f'<a href="{escape(row.url)}">{escape(_("评价 #%(id)s") % {"id": row.review_id})}</a>'
        else:
            case = "—"
        action = (
            f'<a class="button" data-action="{escape(entry.kind.action)}" href="{escape(row.url)}">{action_label}</a>'
            if entry.action_allowed else ""
        )
        overdue = ' class="overdue"' if entry.overdue else ""
        out.append(
            f'<tr data-kind="{kind}"{overdue}>\n'
            f"  <td>{label}</td>\n"
            f"  <td>{deadline_html(row.due_at, now=now)}</td>\n"
            f'  <td><a href="{order_url}{no}{order_url_end}">{no}</a></td>\n'
            f"  <td>{case}</td>\n"
            f"  <td>{escape(row.detail) or '—'}</td>\n"
            f"  <td>{action}</td>\n"
            "</tr>"
        )
    return mark_safe("".join(out))


@require_GET
@shop_required(perm=Perm.ORDER_VIEW)
def deadline_list_view(request):
    within = request.GET.get("within") or "24h"
    kind = request.GET.get("kind") or ""
    cursor = request.GET.get("cursor") or None
    now = timezone.now()
    error = None
    try:
        entries, next_cursor = deadline_queue_for(
            user=request.user, shop_ids={request.shop.pk}, now=now, within=within, kind=kind or None, cursor=cursor, limit=PER_PAGE
        )
    except Invalid as refusal:
        # A hand-edited address: say what was wrong and show the default queue rather than an error page.
        error, within, kind = refusal.message, "24h", ""
        entries, next_cursor = deadline_queue_for(user=request.user, shop_ids={request.shop.pk}, now=now, limit=PER_PAGE)
    context = {
        "entries": entries,
        "rows_html": deadline_rows_html(entries, now=now),
        "next_cursor": next_cursor,
        "within": within,
        "within_choices": WITHIN_CHOICES,
        "kind": kind,
        "kinds": [(k.name, k.label) for k in deadline_queue_kinds()],
        "error": error,
        "first_page": cursor is None,
        "now": now,
    }
    return render(request, "shop_admin/deadline_list.html", context)

"""/deadlines/: the deadline queue of the shop, every app's kinds merged nearest first, with the action the role allows."""
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from shop_admin.kernel.console import shop_required
from shop_admin.kernel.deadline_queue import deadline_queue_for, deadline_queue_kinds
from shop_admin.kernel.errors import Invalid
from shop_admin.kernel.permissions import Perm

PER_PAGE = 50
WITHIN_CHOICES = ["2h", "24h", "3d", "7d"]


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

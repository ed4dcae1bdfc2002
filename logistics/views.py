"""Console pages of logistics: ship one order, ship many from a form."""
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from logistics.constants import Carrier
from logistics.forms import ShipForm
from logistics.jobs import orders_bulk_ship
from logistics.services import shipment_create
from orders.constants import OrderStatus
from orders.models import Order
from orders.selectors import order_get_for_shops
from shop_admin.actors import Actor
from shop_admin.background import background_job_start
from shop_admin.console import forbidden, shop_required
from shop_admin.errors import DomainError, NotFound
from shop_admin.permissions import Perm, user_can
from shop_admin.text import form_errors_text, join_messages


@require_POST
@shop_required
def order_ship_view(request, order_no: str):
    try:
        order = order_get_for_shops(shop_ids={request.shop.pk}, order_no=order_no)
    except NotFound:
        raise Http404 from None
    if not user_can(user=request.user, shop_id=order.shop_id, perm=Perm.ORDER_SHIP):
        return forbidden(request, _("您的角色无权发货"))
    form = ShipForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("orders:detail", order_no=order_no)
    try:
        shipment_create(order=order, actor=Actor.for_user(request.user), **form.cleaned_data)
        messages.success(request, _("已发货"))
    except DomainError as exc:
        fields = exc.details.get("fields", {})
        messages.error(request, exc.message + (_("：") + join_messages(fields.values()) if fields else ""))
    return redirect("orders:detail", order_no=order_no)


@shop_required
def bulk_ship(request):
    """GET: one row per selected paid order to fill in; POST: start the shipping job."""
    if not user_can(user=request.user, shop_id=request.shop.pk, perm=Perm.ORDER_SHIP):
        return forbidden(request, _("您的角色无权发货"))
    if request.method == "POST":
        order_nos = request.POST.getlist("order_no")[:500]
        rows, errors = [], []
        for order_no in order_nos:
            carrier = request.POST.get(f"carrier_{order_no}", "")
            tracking_no = request.POST.get(f"tracking_{order_no}", "").strip()
            if not tracking_no:
                errors.append(_("%(no)s：请填写快递单号") % {"no": order_no})
                continue
            rows.append({"order_no": order_no, "carrier": carrier, "tracking_no": tracking_no})
        if errors or not rows:
            for error in errors or [_("没有可发货的订单")]:
                messages.error(request, error)
            return redirect(f"/logistics/bulk-ship/?{'&'.join(f'order_no={n}' for n in order_nos)}")
        job = background_job_start(
            shop=request.shop, user=request.user, kind="bulk_ship", total=len(rows), func=orders_bulk_ship, params={"rows": rows}
        )
        return redirect("job_detail", job_id=job.pk)
    order_nos = request.GET.getlist("order_no")[:500]
    orders = list(Order.objects.filter(shop=request.shop, order_no__in=order_nos).order_by("-created_at"))
    shippable = [o for o in orders if o.status == OrderStatus.PAID]
    skipped = [o for o in orders if o.status != OrderStatus.PAID]
    return render(
        request,
        "logistics/bulk_ship.html",
        {"orders": shippable, "skipped": skipped, "carriers": Carrier.choices},
    )

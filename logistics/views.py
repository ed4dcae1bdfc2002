"""Console pages of logistics: ship one order, ship many from a form."""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from logistics.constants import Carrier
from logistics.forms import ShipForm
from logistics.services import shipment_create
from orders.constants import OrderStatus
from orders.selectors import order_get_for_shops, orders_in_shop
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.background import background_job_start
from shop_admin.kernel.console import forbidden, shop_record_or_404, shop_required
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.permissions import Perm, user_can
from shop_admin.kernel.text import form_errors_text, join_messages


@require_POST
@shop_required
def order_ship_view(request, order_no: str):
    order = shop_record_or_404(request, lambda shop_ids: order_get_for_shops(shop_ids=shop_ids, order_no=order_no))
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


def _bulk_ship_form(request, order_nos: list[str]):
    orders = orders_in_shop(shop_id=request.shop.pk, order_nos=order_nos)
    return render(
        request,
        "logistics/bulk_ship.html",
        {
            "orders": [o for o in orders if o.status == OrderStatus.PAID],
            "skipped": [o for o in orders if o.status != OrderStatus.PAID],
            "carriers": Carrier.choices,
        },
    )


@shop_required
def bulk_ship_view(request):
    """A selection from the order list (GET, or the list's bulk bar): one row per paid order to fill in; POST: start the job."""
    if not user_can(user=request.user, shop_id=request.shop.pk, perm=Perm.ORDER_SHIP):
        return forbidden(request, _("您的角色无权发货"))
    if request.method != "POST":
        return _bulk_ship_form(request, request.GET.getlist("order_no")[:500])
    order_nos = request.POST.getlist("order_no")[:500]
    if request.POST.get("action") == "ship":  # the order list's bulk bar: the selection, to fill in
        if not order_nos:
            messages.error(request, _("请先勾选订单"))
            return redirect("orders:list")
        return _bulk_ship_form(request, order_nos)
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
    job = background_job_start(shop=request.shop, user=request.user, kind="logistics_bulk_ship", total=len(rows), params={"rows": rows})
    return redirect("job_detail", job_id=job.pk)

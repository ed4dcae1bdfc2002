"""Console pages that print: one order's waybill and packing slip as a PDF, a selection of orders as a background job."""
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from logistics.selectors import shipments_by_order
from logistics.waybill import waybill_for_order, waybills_render
from orders.selectors import order_get_for_shops
from shop_admin.kernel.background import background_job_start
from shop_admin.kernel.console import forbidden, shop_record_or_404, shop_required
from shop_admin.kernel.permissions import Perm, user_can

WAYBILLS_MAX = 5000  # one job, one PDF: a file a merchant can still download and print in one go (size: tests/perf/README.md)


@shop_required(perm=Perm.ORDER_VIEW)
def order_waybill_view(request, order_no: str):
    """The order's waybill and packing slip, opened in the browser to print."""
    if not user_can(user=request.user, shop_id=request.shop.pk, perm=Perm.ORDER_VIEW):
        return forbidden(request, _("您的角色无权查看"))
    order = shop_record_or_404(request, lambda shop_ids: order_get_for_shops(shop_ids=shop_ids, order_no=order_no))
    response = HttpResponse(content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="waybill-{order.order_no}.pdf"'
    waybills_render([waybill_for_order(order=order, shipments=shipments_by_order([order.pk]).get(order.pk, []))], response)
    return response


@require_POST
@shop_required(perm=Perm.ORDER_VIEW)
def waybills_print_view(request):
    """The selection of the order list (`order_no` values) printed as one PDF by a job; its page offers the download."""
    if not user_can(user=request.user, shop_id=request.shop.pk, perm=Perm.ORDER_VIEW):
        return forbidden(request, _("您的角色无权查看"))
    order_nos = list(dict.fromkeys(request.POST.getlist("order_no")))
    if not order_nos:
        messages.error(request, _("请先勾选订单"))
        return redirect("orders:list")
    if len(order_nos) > WAYBILLS_MAX:
        messages.error(request, _("一次最多打印 %(max)d 单") % {"max": WAYBILLS_MAX})
        return redirect("orders:list")
    job = background_job_start(
        shop=request.shop, user=request.user, kind="logistics_waybills_print", total=len(order_nos), params={"order_nos": order_nos}
    )
    return redirect("job_detail", job_id=job.pk)

"""Console pages of orders (the minimal list and detail; the console issue widens them)."""
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from orders.constants import OrderStatus
from orders.selectors import order_get_for_shops, order_list_for_shop
from shop_admin.console import shop_required
from shop_admin.errors import NotFound


@shop_required
def order_list(request):
    status = request.GET.get("status") or None
    if status not in OrderStatus.values:
        status = None
    page = Paginator(order_list_for_shop(shop_id=request.shop.pk, status=status), 20).get_page(request.GET.get("page"))
    return render(request, "orders/order_list.html", {"page": page, "status": status, "statuses": OrderStatus.choices})


@shop_required
def order_detail(request, order_no: str):
    try:
        order = order_get_for_shops(shop_ids={request.shop.pk}, order_no=order_no)
    except NotFound:
        raise Http404 from None
    return render(request, "orders/order_detail.html", {"order": order})

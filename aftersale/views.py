"""Console pages of after-sale: the list of cases, the ones waiting for the merchant first."""
from django.shortcuts import render
from django.utils import timezone

from aftersale.constants import AfterSaleStatus
from aftersale.selectors import aftersale_list
from shop_admin.kernel.console import shop_required


@shop_required
def aftersale_list_view(request):
    status = request.GET.get("status") or None
    if status not in AfterSaleStatus.values:
        status = None
    return render(
        request,
        "aftersale/aftersale_list.html",
        {
            "cases": aftersale_list(shop_id=request.shop.pk, status=status),
            "status": status,
            "statuses": AfterSaleStatus.choices,
            "now": timezone.now(),
        },
    )

"""Console pages of the order CSV: upload and preview an import, confirm it; export what a list's filters select."""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orders.exports import order_filters_to_params
from orders.forms import OrderFilterForm
from orders.imports.plan import REQUIRED
from orders.imports.service import import_error_rows, orders_import_confirm, orders_import_start
from shop_admin.kernel.background import background_job_start
from shop_admin.kernel.console import shop_record_or_404, shop_required
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.permissions import Perm
from shop_admin.kernel.selectors import background_job_get_for_shop, background_jobs_of_kind
from shop_admin.kernel.text import domain_error_text, form_errors_text

# Importing writes orders: the roles that edit orders. The navigation's 导入 follows this (console.page_perm).
IMPORT_PERM = Perm.ORDER_EDIT


@shop_required(perm=IMPORT_PERM)
def import_list_view(request):
    """Upload a file (GET: the form and the shop's recent imports)."""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择CSV文件"))
            return redirect("imports")
        try:
            job = orders_import_start(shop=request.shop, user=request.user, filename=upload.name, content=upload.read())
        except DomainError as exc:
            messages.error(request, domain_error_text(exc))
            return redirect("imports")
        return redirect("import_detail", job_id=job.pk)
    jobs = background_jobs_of_kind(shop_id=request.shop.pk, kinds=["orders_import_check"], limit=20)
    return render(request, "orders/import_list.html", {"jobs": jobs, "required_columns": REQUIRED})


@shop_required(perm=IMPORT_PERM)
def import_detail_view(request, job_id: int):
    """The preview: progress while checking, then the summary, every bad row, and the confirm button."""
    job = shop_record_or_404(request, lambda shop_ids: background_job_get_for_shop(shop_id=request.shop.pk, job_id=job_id))
    if job.kind != "orders_import_check":
        return redirect("job_detail", job_id=job.pk)
    template = "orders/_import_preview.html" if request.headers.get("HX-Request") else "orders/import_detail.html"
    return render(request, template, {"job": job, "summary": job.summary, "errors": import_error_rows(job.summary)})


@require_POST
@shop_required(perm=IMPORT_PERM)
def import_confirm_view(request, job_id: int):
    try:
        job = orders_import_confirm(shop=request.shop, user=request.user, check_job_id=job_id)
    except DomainError as exc:
        messages.error(request, domain_error_text(exc))
        return redirect("import_detail", job_id=job_id)
    return redirect("job_detail", job_id=job.pk)


@require_POST
@shop_required(perm=Perm.ORDER_VIEW)
def order_export_view(request):
    """Export every order the list's filters select (not just a page), as a job with a download at the end."""
    form = OrderFilterForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        # back to the list with the filters as typed: its filter bar shows them and what is wrong
        query = request.POST.copy()
        query.pop("csrfmiddlewaretoken", None)
        return redirect(f"{reverse('orders:list')}?{query.urlencode()}")
    job = background_job_start(
        shop=request.shop, user=request.user, kind="orders_export", total=0, params={"filters": order_filters_to_params(form.filters())}
    )
    return redirect("job_detail", job_id=job.pk)

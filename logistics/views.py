"""Console pages of logistics: the parcel list, ship one order, ship many from a form or a CSV upload, answer signed-but-not-received."""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from logistics.bulk_ship_csv import bulk_ship_plan
from logistics.constants import SHIPMENT_MOVING, Carrier, ShipmentStatus
from logistics.forms import NotReceivedAnswerForm, ShipForm, ShipmentFilterForm
from logistics.routes import parcel_hours
from logistics.selectors import ShipmentFilters, shipment_list, shipment_status_counts
from logistics.services import shipment_create
from logistics.services.not_received import not_received_answer, shipment_reship
from orders.constants import OrderStatus
from orders.selectors import order_get_for_shops, orders_in_shop
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.background import background_job_start
from shop_admin.kernel.console import forbidden, input_keep, shop_record_or_404, shop_required
from shop_admin.kernel.csvio import CsvUnreadable
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.permissions import Perm, user_can
from shop_admin.kernel.text import domain_error_text, form_errors_text

PAGE_SIZE = 50


@shop_required(perm=Perm.ORDER_VIEW)
def shipment_list_view(request):
    """/logistics/: the shop's parcels with filters, counts per state, stalled ones in red, a selection to print."""
    if not user_can(user=request.user, shop_id=request.shop.pk, perm=Perm.ORDER_VIEW):
        return forbidden(request, _("您的角色无权查看"))
    form = ShipmentFilterForm(request.GET or None)
    cleaned = {}
    if form.is_bound:
        form.is_valid()
        cleaned = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    page = cleaned.pop("page", 1)
    filters = ShipmentFilters(**cleaned)
    now = timezone.now()
    shipments = shipment_list(shop_id=request.shop.pk, filters=filters, now=now, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    for shipment in shipments:
        shipment.route_hours = parcel_hours(shipment, now=now)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "logistics/shipment_list.html",
        {
            "form": form,
            "filters": filters,
            "shipments": shipments[:PAGE_SIZE],
            "has_next": len(shipments) > PAGE_SIZE,
            "page": page,
            "query": query.urlencode(),
            "counts": shipment_status_counts(shop_id=request.shop.pk),
            "statuses": ShipmentStatus.choices,
            "carriers": Carrier.choices,
            "moving_statuses": tuple(str(s) for s in SHIPMENT_MOVING),
            "now": now,
            "can_ship": user_can(user=request.user, shop_id=request.shop.pk, perm=Perm.ORDER_SHIP),
        },
    )


def _parcel_post(request, order_no: str, send, done: str):
    """A parcel sent from the order page (shipped, or reshipped): the form checked, the service run, back to the order."""
    order = shop_record_or_404(request, lambda shop_ids: order_get_for_shops(shop_ids=shop_ids, order_no=order_no))
    if not user_can(user=request.user, shop_id=order.shop_id, perm=Perm.ORDER_SHIP):
        return forbidden(request, _("您的角色无权发货"))
    form = ShipForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        input_keep(request, request.resolver_match.url_name)
        return redirect("orders:detail", order_no=order_no)
    try:
        send(order, Actor.for_user(request.user), form.cleaned_data)
        messages.success(request, done)
    except DomainError as exc:
        messages.error(request, domain_error_text(exc, labels=form))
        # the order page's parcel forms are named like their urls (order_ship, order_reship)
        input_keep(request, request.resolver_match.url_name)
    return redirect("orders:detail", order_no=order_no)


@require_POST
@shop_required(perm=Perm.ORDER_VIEW)
def order_ship_view(request, order_no: str):
    return _parcel_post(request, order_no, lambda order, actor, data: shipment_create(order=order, actor=actor, **data), _("已发货"))


@require_POST
@shop_required(perm=Perm.ORDER_VIEW)
def order_reship_view(request, order_no: str):
    """Signed but not received, and really not delivered: a new parcel at the merchant's freight."""

    def reship(order, actor, data):
        shipment_reship(order=order, actor=actor, **{k: v for k, v in data.items() if k != "add_parcel"})

    return _parcel_post(request, order_no, reship, _("已补发"))


@require_POST
@shop_required(perm=Perm.ORDER_VIEW)
def not_received_answer_view(request, order_no: str):
    """Signed but not received, and delivered after all: the merchant's note and evidence resolve the exception."""
    order = shop_record_or_404(request, lambda shop_ids: order_get_for_shops(shop_ids=shop_ids, order_no=order_no))
    if not user_can(user=request.user, shop_id=order.shop_id, perm=Perm.ORDER_EDIT):
        return forbidden(request, _("您的角色无权处理异常"))
    form = NotReceivedAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        input_keep(request, "not_received_answer")
        return redirect("orders:detail", order_no=order_no)
    try:
        not_received_answer(order=order, actor=Actor.for_user(request.user), note=form.cleaned_data["note"], evidence=form.evidence_urls())
        messages.success(request, _("已提交举证"))
    except DomainError as exc:
        messages.error(request, domain_error_text(exc, labels=form))
        input_keep(request, "not_received_answer")
    return redirect("orders:detail", order_no=order_no)


def _bulk_ship_form(request, order_nos: list[str], typed=None):
    """One row per paid order to fill in; `typed` is a refused POST, whose carriers and numbers stay in their rows."""
    orders = orders_in_shop(shop_id=request.shop.pk, order_nos=order_nos)
    for order in orders:
        order.typed_carrier = typed.get(f"carrier_{order.order_no}", "") if typed else ""
        order.typed_tracking_no = typed.get(f"tracking_{order.order_no}", "") if typed else ""
    return render(
        request,
        "logistics/bulk_ship.html",
        {
            "orders": [o for o in orders if o.status == OrderStatus.PAID],
            "skipped": [o for o in orders if o.status != OrderStatus.PAID],
            "carriers": Carrier.choices,
        },
    )


UPLOAD_SESSION_KEY = "bulk_ship_upload"


def _bulk_ship_upload(request):
    """A CSV of 订单号, 快递公司, 快递单号: the preview names every bad row; the good ones wait for the confirm."""
    upload = request.FILES["file"]
    try:
        plan = bulk_ship_plan(shop_id=request.shop.pk, content=upload.read())
    except CsvUnreadable:
        messages.error(request, _("无法读取文件：请上传 UTF-8 或 GBK 编码的 CSV 文件"))
        return redirect("bulk_ship")
    request.session[UPLOAD_SESSION_KEY] = {"shop_id": request.shop.pk, "rows": plan.rows, "filename": upload.name[:200]}
    return render(request, "logistics/bulk_ship.html", {"plan": plan, "filename": upload.name, "carriers": Carrier.choices})


def _bulk_ship_upload_apply(request):
    """Ship the good rows of the previewed upload as one job (once: the preview is used up)."""
    upload = request.session.pop(UPLOAD_SESSION_KEY, None)
    if not upload or upload["shop_id"] != request.shop.pk or not upload["rows"]:
        messages.error(request, _("没有可发货的行，请重新上传"))
        return redirect("bulk_ship")
    rows = [{key: row[key] for key in ("order_no", "carrier", "tracking_no")} for row in upload["rows"]]
    job = background_job_start(
        shop=request.shop, user=request.user, kind="logistics_bulk_ship", total=len(rows), params={"rows": rows, "filename": upload["filename"]}
    )
    return redirect("job_detail", job_id=job.pk)


@shop_required(perm=Perm.ORDER_VIEW)
def bulk_ship_view(request):
    """A selection from the order list (GET, or the list's bulk bar): one row per paid order to fill in; POST: start the job.

    Or a CSV upload (订单号, 快递公司, 快递单号): previewed first, its good rows shipped as one job once confirmed.
    """
    if not user_can(user=request.user, shop_id=request.shop.pk, perm=Perm.ORDER_SHIP):
        return forbidden(request, _("您的角色无权发货"))
    if request.method != "POST":
        return _bulk_ship_form(request, request.GET.getlist("order_no")[:500])
    if request.FILES.get("file"):
        return _bulk_ship_upload(request)
    if request.POST.get("action") == "apply_upload":
        return _bulk_ship_upload_apply(request)
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
        return _bulk_ship_form(request, order_nos, typed=request.POST)
    job = background_job_start(shop=request.shop, user=request.user, kind="logistics_bulk_ship", total=len(rows), params={"rows": rows})
    return redirect("job_detail", job_id=job.pk)

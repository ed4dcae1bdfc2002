"""Console pages of orders: the list with filters and bulk actions, the detail with the actions its state allows."""
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import has_transition_perm

from orders.constants import EventKind, OrderStatus
from orders.events import event_record
from orders.forms import OrderFilterForm, ReasonForm, RemarkForm
from orders.jobs import orders_bulk_remark, orders_export_selected
from orders.models import Order
from orders.selectors import (
    TAB_COUNT_CAP,
    order_get_for_shops,
    order_list_page,
    order_tab_counts,
)
from orders.services.common import transition_refusal
from orders.services.lifecycle import (
    order_cancel,
    order_refund_close,
    order_remark_set,
    order_risk_approve,
)
from shop_admin.actors import Actor
from shop_admin.background import background_job_start
from shop_admin.console import forbidden, shop_required
from shop_admin.errors import DomainError, NotFound
from shop_admin.permissions import Perm, user_can
from shop_admin.text import form_errors_text


def shop_order(request, order_no: str) -> Order:
    """The order if it belongs to the shop the user works in; any other is a 404, whoever owns it."""
    try:
        return order_get_for_shops(shop_ids={request.shop.pk}, order_no=order_no)
    except NotFound:
        raise Http404 from None


@shop_required
def order_list(request):
    form = OrderFilterForm(request.GET)
    orders, has_next, filters, page_no = [], False, None, 1
    if form.is_valid():  # an invalid filter shows its error next to the field and an empty list, never a 500
        filters = form.filters()
        page_no = form.cleaned_data["page"] or 1
        per_page = form.cleaned_data["per_page"] or 20
        orders, has_next = order_list_page(shop_id=request.shop.pk, filters=filters, page=page_no, per_page=per_page)
    counts = order_tab_counts(shop_id=request.shop.pk)
    query = request.GET.copy()
    query.pop("page", None)
    tabs_query = request.GET.copy()
    for key in ("page", "status"):
        tabs_query.pop(key, None)
    context = {
        "form": form,
        "orders": orders,
        "page_no": page_no,
        "has_next": has_next,
        "query": query.urlencode(),
        "tabs_query": tabs_query.urlencode(),
        "tabs": [(value, label, counts.get(value, 0)) for value, label in OrderStatus.choices],
        "count_cap": TAB_COUNT_CAP,
        "status": filters.status if filters else None,
        "can_ship": user_can(user=request.user, shop_id=request.shop.pk, perm=Perm.ORDER_SHIP),
        "can_edit": user_can(user=request.user, shop_id=request.shop.pk, perm=Perm.ORDER_EDIT),
    }
    template = "orders/_order_table.html" if request.headers.get("HX-Request") else "orders/order_list.html"
    return render(request, template, context)


def _available_actions(order: Order, user) -> list[str]:
    return [t.name for t in order.get_available_user_status_transitions(user)]


@shop_required
def order_detail(request, order_no: str):
    order = shop_order(request, order_no)
    actions = _available_actions(order, request.user)
    # Ship is the action a merchant most expects; when it is blocked, say why instead of hiding it silently.
    ship_blocked = None
    if order.status == OrderStatus.PAID and "ship" not in actions and has_transition_perm(order.ship, request.user):
        ship_blocked = transition_refusal(order, "ship")
    context = {
        "order": order,
        "actions": actions,
        "ship_blocked": ship_blocked,
        "remark_form": RemarkForm(initial={"remark": order.merchant_remark, "flag": order.remark_flag}),
        "can_edit": user_can(user=request.user, shop_id=order.shop_id, perm=Perm.ORDER_EDIT),
        "can_review": user_can(user=request.user, shop_id=order.shop_id, perm=Perm.RISK_REVIEW),
    }
    return render(request, "orders/order_detail.html", context)


def _act(request, order: Order, perm: str, action) -> HttpResponse:
    if not user_can(user=request.user, shop_id=order.shop_id, perm=perm):
        return forbidden(request, _("您的角色无权执行此操作"))
    try:
        action()
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("orders:detail", order_no=order.order_no)


@require_POST
@shop_required
def order_cancel_view(request, order_no: str):
    order = shop_order(request, order_no)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写取消原因"))
        return redirect("orders:detail", order_no=order_no)

    def cancel():
        order_cancel(order=order, actor=Actor.for_user(request.user), reason=form.cleaned_data["reason"])
        messages.success(request, _("订单已取消"))

    return _act(request, order, Perm.ORDER_EDIT, cancel)


@require_POST
@shop_required
def order_close_view(request, order_no: str):
    """Refund everything and close: money moves, so it needs a second confirmation."""
    order = shop_order(request, order_no)
    form = ReasonForm(request.POST)
    if not form.is_valid() or not form.cleaned_data.get("confirm"):
        messages.error(request, _("退款关闭订单需要填写原因并勾选二次确认"))
        return redirect("orders:detail", order_no=order_no)

    def close():
        order_refund_close(order=order, actor=Actor.for_user(request.user), reason=form.cleaned_data["reason"])
        messages.success(request, _("已全额退款并关闭订单"))

    return _act(request, order, Perm.ORDER_MONEY, close)


@require_POST
@shop_required
def order_risk_approve_view(request, order_no: str):
    order = shop_order(request, order_no)

    def approve():
        order_risk_approve(order=order, actor=Actor.for_user(request.user), note=request.POST.get("note", ""))
        messages.success(request, _("风控审核已通过，可以发货"))

    return _act(request, order, Perm.RISK_REVIEW, approve)


@require_POST
@shop_required
def order_remark_view(request, order_no: str):
    order = shop_order(request, order_no)
    form = RemarkForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("orders:detail", order_no=order_no)

    def remark():
        order_remark_set(order=order, actor=Actor.for_user(request.user), remark=form.cleaned_data["remark"], flag=form.cleaned_data["flag"])
        messages.success(request, _("备注已保存"))

    return _act(request, order, Perm.ORDER_EDIT, remark)


@require_POST
@shop_required
def order_reveal_phone(request, order_no: str):
    """Show the full phone number once, and log who looked."""
    order = shop_order(request, order_no)
    if not user_can(user=request.user, shop_id=order.shop_id, perm=Perm.ORDER_VIEW):
        return forbidden(request, _("您的角色无权查看"))
    event_record(order, EventKind.PHONE_REVEALED, Actor.for_user(request.user))
    return HttpResponse(f'<span id="phone">{order.phone}</span>')


@require_POST
@shop_required
def order_bulk(request):
    """Bulk actions on the selected rows: remark, or export; ship goes through its own form (logistics)."""
    order_nos = request.POST.getlist("order_no")[:500]
    action = request.POST.get("action")
    if not order_nos:
        messages.error(request, _("请先勾选订单"))
        return redirect("orders:list")
    if action == "ship":
        query = "&".join(f"order_no={n}" for n in order_nos)
        return redirect(f"/logistics/bulk-ship/?{query}")
    if action == "remark":
        if not user_can(user=request.user, shop_id=request.shop.pk, perm=Perm.ORDER_EDIT):
            return forbidden(request, _("您的角色无权修改备注"))
        form = RemarkForm({"remark": request.POST.get("remark", ""), "flag": request.POST.get("flag", "0")})
        if not form.is_valid():
            messages.error(request, _("备注内容有误"))
            return redirect("orders:list")
        job = background_job_start(
            shop=request.shop, user=request.user, kind="bulk_remark", total=len(order_nos), func=orders_bulk_remark,
            params={"order_nos": order_nos, "remark": form.cleaned_data["remark"], "flag": form.cleaned_data["flag"]},
        )
    elif action == "export":
        job = background_job_start(
            shop=request.shop, user=request.user, kind="export_selected", total=len(order_nos),
            func=orders_export_selected, params={"order_nos": order_nos},
        )
    else:
        messages.error(request, _("请选择批量操作"))
        return redirect("orders:list")
    return redirect("job_detail", job_id=job.pk)

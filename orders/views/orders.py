"""Console pages of orders: the list with filters and bulk actions, the detail with the actions its state allows."""
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import has_transition_perm

from orders.constants import OrderStatus
from orders.forms import OrderFilterForm, ReasonForm, RemarkForm
from orders.models import Order
from orders.parts import order_parts, order_parts_attach
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
from orders.services.privacy import order_contact_reveal
from orders.views.order_rows import (
    order_filter_fields_html,
    order_rows_html,
    order_table_chrome,
    order_tabs_html,
)
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.background import background_job_start
from shop_admin.kernel.console import forbidden, input_keep, input_kept, shop_record_or_404, shop_required
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.permissions import Perm, user_can, user_perms
from shop_admin.kernel.text import domain_error_text, form_errors_text


def shop_order(request, order_no: str) -> Order:
    """The order if it belongs to the shop the user works in; any other is a 404, whoever owns it."""
    return shop_record_or_404(request, lambda shop_ids: order_get_for_shops(shop_ids=shop_ids, order_no=order_no))


@shop_required(perm=Perm.ORDER_VIEW)
def order_list_view(request):
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
    tabs_query = tabs_query.urlencode()
    status = filters.status if filters else None
    parts = order_parts()
    bulk_bar, table_head = order_table_chrome(
        parts=parts,
        perms=user_perms(user=request.user, shop_id=request.shop.pk),
        can_edit=user_can(user=request.user, shop_id=request.shop.pk, perm=Perm.ORDER_EDIT),
    )
    context = {
        "form": form,
        "orders": orders,
        "rows_html": order_rows_html(orders, parts, now=timezone.now()),
        "filter_fields": "" if request.headers.get("HX-Request") else order_filter_fields_html(form),
        "page_no": page_no,
        "has_next": has_next,
        "query": query.urlencode(),
        "tabs_query": tabs_query,
        "status_tabs": order_tabs_html(tabs_query=tabs_query, status=status, counts=counts, cap=TAB_COUNT_CAP),
        "status": status,
        "bulk_bar": bulk_bar,
        "table_head": table_head,
        "parts_with_columns": sum(1 for part in parts if part.list_template),
    }
    template = "orders/_order_table.html" if request.headers.get("HX-Request") else "orders/order_list.html"
    return render(request, template, context)


@shop_required(perm=Perm.ORDER_VIEW)
def order_detail_view(request, order_no: str):
    order = shop_order(request, order_no)
    order_parts_attach([order])
    actions = [t.name for t in order.get_available_user_status_transitions(request.user)]
    # Ship is the action a merchant most expects; when it is blocked, say why instead of hiding it silently.
    ship_blocked = None
    if order.status == OrderStatus.PAID and "ship" not in actions and has_transition_perm(order.ship, request.user):
        ship_blocked = transition_refusal(order, "ship")
    context = {
        "order": order,
        "actions": actions,
        "ship_blocked": ship_blocked,
        "remark_form": _remark_form(request, order),
        "can_edit": user_can(user=request.user, shop_id=order.shop_id, perm=Perm.ORDER_EDIT),
        "can_review": user_can(user=request.user, shop_id=order.shop_id, perm=Perm.RISK_REVIEW),
        "can_reveal": user_can(user=request.user, shop_id=order.shop_id, perm=Perm.CONTACT_REVEAL),
    }
    return render(request, "orders/order_detail.html", context)


def _remark_form(request, order) -> RemarkForm:
    """The remark form: the order's remark and flag, or what was typed before a refusal."""
    kept = input_kept(request, "remark")
    return RemarkForm(initial={"remark": kept.get("remark", order.merchant_remark), "flag": str(kept.get("flag", order.remark_flag))})


def _order_action(request, order_no: str, *, perm: str, form_class=None, refused: str = "", action: Callable) -> HttpResponse:
    """The shape of every action button on the order page: the shop's order, the role, the form, the service, a message."""
    order = shop_order(request, order_no)
    if not user_can(user=request.user, shop_id=order.shop_id, perm=perm):
        return forbidden(request, _("您的角色无权执行此操作"))
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        messages.error(request, refused or form_errors_text(form))
        # the order page's forms are named like their urls (cancel, close, remark, risk_approve)
        input_keep(request, request.resolver_match.url_name)
        return redirect("orders:detail", order_no=order_no)
    try:
        done = action(order, Actor.for_user(request.user), form.cleaned_data if form else request.POST)
        messages.success(request, done)
    except DomainError as exc:
        messages.error(request, domain_error_text(exc, labels=form))
        input_keep(request, request.resolver_match.url_name)
    return redirect("orders:detail", order_no=order_no)


@require_POST
@shop_required(perm=Perm.ORDER_VIEW)
def order_cancel_view(request, order_no: str):
    def cancel(order, actor, data):
        order_cancel(order=order, actor=actor, reason=data["reason"])
        return _("订单已取消")

    return _order_action(request, order_no, perm=Perm.ORDER_EDIT, form_class=ReasonForm, refused=_("请填写取消原因"), action=cancel)


@require_POST
@shop_required(perm=Perm.ORDER_VIEW)
def order_close_view(request, order_no: str):
    """Refund everything and close: money moves, so it needs a second confirmation."""

    def close(order, actor, data):
        if not data.get("confirm"):
            raise DomainError(_("退款关闭订单需要填写原因并勾选二次确认"), code="confirmation_required")
        order_refund_close(order=order, actor=actor, reason=data["reason"])
        return _("已全额退款并关闭订单")

    return _order_action(
        request, order_no, perm=Perm.ORDER_MONEY, form_class=ReasonForm, refused=_("退款关闭订单需要填写原因并勾选二次确认"), action=close
    )


@require_POST
@shop_required(perm=Perm.ORDER_VIEW)
def order_risk_approve_view(request, order_no: str):
    def approve(order, actor, data):
        order_risk_approve(order=order, actor=actor, note=data.get("note", ""))
        return _("风控审核已通过，可以发货")

    return _order_action(request, order_no, perm=Perm.RISK_REVIEW, action=approve)


@require_POST
@shop_required(perm=Perm.ORDER_VIEW)
def order_remark_view(request, order_no: str):
    def remark(order, actor, data):
        order_remark_set(order=order, actor=actor, remark=data["remark"], flag=data["flag"])
        return _("备注已保存")

    return _order_action(request, order_no, perm=Perm.ORDER_EDIT, form_class=RemarkForm, action=remark)


@require_POST
@shop_required(perm=Perm.ORDER_VIEW)
def order_phone_reveal_view(request, order_no: str):
    """Show the full name, phone number and address once, and log who looked."""
    order = shop_order(request, order_no)
    if not user_can(user=request.user, shop_id=order.shop_id, perm=Perm.CONTACT_REVEAL):
        return forbidden(request, _("您的角色无权查看"))
    order = order_contact_reveal(order=order, actor=Actor.for_user(request.user))
    return render(request, "orders/_contact.html", {"order": order, "revealed": True})


@require_POST
@shop_required(perm=Perm.ORDER_VIEW)
def order_bulk_view(request):
    """Bulk actions of orders on the selected rows: remark or export. Other apps' bulk actions post to their own pages."""
    order_nos = request.POST.getlist("order_no")[:500]
    action = request.POST.get("action")
    if not order_nos:
        messages.error(request, _("请先勾选订单"))
        return redirect("orders:list")
    if action == "remark":
        if not user_can(user=request.user, shop_id=request.shop.pk, perm=Perm.ORDER_EDIT):
            return forbidden(request, _("您的角色无权修改备注"))
        form = RemarkForm({"remark": request.POST.get("remark", ""), "flag": request.POST.get("flag", "0")})
        if not form.is_valid():
            messages.error(request, _("备注内容有误"))
            return redirect("orders:list")
        job = background_job_start(
            shop=request.shop, user=request.user, kind="orders_bulk_remark", total=len(order_nos),
            params={"order_nos": order_nos, "remark": form.cleaned_data["remark"], "flag": form.cleaned_data["flag"]},
        )
    elif action == "export":
        job = background_job_start(
            shop=request.shop, user=request.user, kind="orders_export_selected", total=len(order_nos), params={"order_nos": order_nos}
        )
    else:
        messages.error(request, _("请选择批量操作"))
        return redirect("orders:list")
    return redirect("job_detail", job_id=job.pk)

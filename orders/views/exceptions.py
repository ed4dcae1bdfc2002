"""Console pages of the exception centre: open exceptions by kind and age, one exception with its facts and remedies, recovery."""
from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orders.constants import ExceptionKind, ExceptionStatus
from orders.exception_selectors import (
    KIND_COUNT_CAP,
    exception_facts,
    exception_get_for_shops,
    exception_kind_counts,
    exceptions_page,
    order_recovered_to,
    orders_payment_failed_queue,
    reconciliation_run_for_shop,
    reconciliation_runs_for_shop,
)
from orders.forms import ReconcileDayForm
from orders.remedies import remedies_for_kind, remedy_get
from orders.services.exceptions import exception_evidence_add, order_merchant_report
from orders.services.reconciliation import reconciliation_run_request
from orders.services.recovery import order_recover, recovery_refusal, recovery_window_ends
from orders.services.remedies import exception_remedy_apply
from orders.views.exception_rows import exception_rows_html
from orders.views.orders import shop_order
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.console import forbidden, input_keep, input_kept, request_perms, shop_record_or_404, shop_required
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.permissions import Perm, user_can, user_perms
from shop_admin.kernel.text import domain_error_text, form_errors_text

PER_PAGE = 20


def _evidence_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _field_labels(remedy=None) -> dict:
    """The labels of the exception forms' fields, for naming the fields a refusal points at."""
    labels = {"note": _("处理说明"), "evidence": _("证据链接"), "description": _("情况说明"), "remedy": _("处理方式")}
    return labels | {f.name: str(f.label) for f in (remedy.fields if remedy else ())}


@shop_required(perm=Perm.ORDER_VIEW)
def exception_list_view(request):
    kind = request.GET.get("kind") or None
    if kind not in ExceptionKind.values:
        kind = None
    status = ExceptionStatus.RESOLVED if request.GET.get("status") == ExceptionStatus.RESOLVED else ExceptionStatus.OPEN
    try:
        page_no = max(1, min(int(request.GET.get("page") or 1), 10000))
    except ValueError:
        page_no = 1
    rows, has_next = exceptions_page(shop_id=request.shop.pk, kind=kind, status=status, page=page_no, per_page=PER_PAGE)
    counts = exception_kind_counts(shop_id=request.shop.pk)
    top = max(counts.values(), default=0) or 1
    now = timezone.now()
    context = {
        "rows": rows,
        "rows_html": exception_rows_html(rows, status=status, now=now),
        "has_next": has_next,
        "page_no": page_no,
        "kind": kind,
        "status": status,
        "kinds": [(value, label, counts.get(value, 0), round(100 * counts.get(value, 0) / top)) for value, label in ExceptionKind.choices],
        "total_open": sum(counts.values()),
        "count_cap": KIND_COUNT_CAP,
        "now": now,
        "recover_queue": orders_payment_failed_queue(shop_id=request.shop.pk, now=now),
    }
    return render(request, "orders/exception_list.html", context)


def _shop_exception(request, exception_id: int):
    return shop_record_or_404(request, lambda shop_ids: exception_get_for_shops(shop_ids=shop_ids, exception_id=exception_id))


@shop_required(perm=Perm.ORDER_VIEW)
def exception_detail_view(request, exception_id: int):
    exception = _shop_exception(request, exception_id)
    perms = user_perms(user=request.user, shop_id=request.shop.pk)
    remedies = [r for r in remedies_for_kind(exception.kind) if r.perm in perms] if exception.status == ExceptionStatus.OPEN else []
    kept = input_kept(request, "remedy")
    context = {
        "exception": exception,
        "order": exception_facts(exception=exception),
        "remedies": remedies,
        "remedy_forms": _remedy_forms(remedies, kept),
        "can_money": Perm.ORDER_MONEY in perms,
        "can_edit": Perm.ORDER_EDIT in perms,
        "can_reveal": Perm.CONTACT_REVEAL in perms,
        "now": timezone.now(),
    }
    return render(request, "orders/exception_detail.html", context)


def _remedy_forms(remedies, kept: dict) -> list:
    """Each remedy's form with its values: what was typed into the one last refused (that one open), else the initials."""
    refused = kept.get("remedy") if any(r.name == kept.get("remedy") for r in remedies) else None
    forms = []
    for position, remedy in enumerate(remedies):
        typed = kept if remedy.name == refused else {}
        values = {
            "fields": [(f, typed.get(f.name, f.initial)) for f in remedy.fields],
            "note": typed.get("note", ""),
            "evidence": typed.get("evidence", ""),
        }
        forms.append((remedy, values, remedy.name == refused if refused else position == 0))
    return forms


@require_POST
@shop_required(perm=Perm.ORDER_VIEW)
def exception_resolve_view(request, exception_id: int):
    exception = _shop_exception(request, exception_id)
    remedy = remedy_get(request.POST.get("remedy", ""))
    perm = remedy.perm if remedy else Perm.ORDER_EDIT
    if not user_can(user=request.user, shop_id=exception.shop_id, perm=perm) or (
        request.POST.get("coupon_amount", "").strip() and not user_can(user=request.user, shop_id=exception.shop_id, perm=Perm.ORDER_MONEY)
    ):
        return forbidden(request, _("您的角色无权执行此操作"))
    try:
        resolved = exception_remedy_apply(
            exception=exception,
            actor=Actor.for_user(request.user),
            remedy=request.POST.get("remedy", ""),
            note=request.POST.get("note", ""),
            evidence=_evidence_lines(request.POST.get("evidence", "")),
            values={name: request.POST.get(name) for name in ("coupon_amount", "sku_id", "warehouse_id", "carrier", "tracking_no")},
        )
        message = _("异常已处理：%(resolution)s") % {"resolution": resolved.resolution}
        messages.success(request, message)
    except DomainError as exc:
        messages.error(request, domain_error_text(exc, labels=_field_labels(remedy)))
        input_keep(request, "remedy")
    return redirect("exceptions:detail", exception_id=exception.pk)


def _evidence_action(request, *, shop_id: int, apply, done: str, kept: str, back):
    """A clerk's (ORDER_EDIT) action that carries evidence lines: `apply(actor, evidence)`, then `back(its result)`; a
    refusal keeps the input and goes `back(None)`."""
    if not user_can(user=request.user, shop_id=shop_id, perm=Perm.ORDER_EDIT):
        return forbidden(request, _("您的角色无权执行此操作"))
    try:
        result = apply(Actor.for_user(request.user), _evidence_lines(request.POST.get("evidence", "")))
    except DomainError as exc:
        messages.error(request, domain_error_text(exc, labels=_field_labels()))
        input_keep(request, kept)
        return back(None)
    messages.success(request, done)
    return back(result)


@require_POST
@shop_required(perm=Perm.ORDER_VIEW)
def exception_evidence_view(request, exception_id: int):
    exception = _shop_exception(request, exception_id)
    return _evidence_action(
        request, shop_id=exception.shop_id, done=_("证据已添加"), kept="evidence",
        apply=lambda actor, evidence: exception_evidence_add(exception=exception, actor=actor, evidence=evidence),
        back=lambda _result: redirect("exceptions:detail", exception_id=exception.pk),
    )


@require_POST
@shop_required(perm=Perm.ORDER_VIEW)
def order_report_view(request, order_no: str):
    """The merchant reports damaged or missing goods: the order is held until it is resolved."""
    order = shop_order(request, order_no)
    return _evidence_action(
        request, shop_id=order.shop_id, done=_("已登记异常，订单暂停发货"), kept="report",
        apply=lambda actor, evidence: order_merchant_report(
            order=order, actor=actor, description=request.POST.get("description", ""), evidence=evidence
        ),
        back=lambda exception: redirect("exceptions:detail", exception_id=exception.pk)
        if exception
        else redirect("orders:detail", order_no=order_no),
    )


@shop_required(perm=Perm.ORDER_VIEW)
def order_recover_view(request, order_no: str):
    """Recovery in two steps: GET shows what will happen and asks to confirm; POST with confirm=1 recovers."""
    order = shop_order(request, order_no)
    if not user_can(user=request.user, shop_id=order.shop_id, perm=Perm.ORDER_MONEY):
        return forbidden(request, _("您的角色无权召回订单"))
    if request.method == "POST":
        try:
            new = order_recover(order=order, actor=Actor.for_user(request.user), confirm=request.POST.get("confirm") == "1")
            messages.success(request, _("已召回为新订单 %(no)s，请提醒买家在支付时限内付款") % {"no": new.order_no})
            return redirect("orders:detail", order_no=new.order_no)
        except DomainError as exc:
            messages.error(request, domain_error_text(exc, labels=_field_labels()))
            return redirect("orders:detail", order_no=order_no)
    recovered_to = order_recovered_to(order=order)
    refusal = None if recovered_to else recovery_refusal(order, now=timezone.now())
    context = {
        "order": order,
        "recovered_to": recovered_to,
        "refusal": refusal.message if refusal else None,
        "window_ends": recovery_window_ends(order),
    }
    return render(request, "orders/order_recover_confirm.html", context)


@shop_required(perm=Perm.FINANCE_VIEW)
def reconciliation_view(request):
    """The shop's reconciliation by day (money: the owner and finance), and the form that runs a day now."""
    today = timezone.localdate()
    context = {
        "runs": reconciliation_runs_for_shop(shop_id=request.shop.pk),
        "may_run": Perm.RECONCILE_RUN in request_perms(request),
        "today": today,
        "yesterday": today - timedelta(days=1),
    }
    return render(request, "orders/reconciliation.html", context)


@require_POST
@shop_required(perm=Perm.RECONCILE_RUN)
def reconciliation_run_view(request):
    """Run a day's reconciliation of this shop now, as a job; asked again while it runs, the page shows that run."""
    form = ReconcileDayForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        input_keep(request, "reconcile")
        return redirect("exceptions:reconciliation")
    try:
        run, queued = reconciliation_run_request(shop=request.shop, actor=Actor.for_user(request.user), day=form.cleaned_data["day"])
    except DomainError as exc:
        messages.error(request, domain_error_text(exc, labels=form))
        input_keep(request, "reconcile")
        return redirect("exceptions:reconciliation")
    day = run.day.isoformat()
    if queued:
        messages.success(request, _("已开始对账 %(day)s，完成后结果显示在下方") % {"day": day})
    else:
        messages.info(request, _("%(day)s 的对账正在进行，请等待它完成") % {"day": day})
    return redirect(f"{reverse('exceptions:reconciliation')}#run-{run.pk}")


@shop_required(perm=Perm.FINANCE_VIEW)
def reconciliation_run_detail_view(request, run_id: int):
    """One day of the shop: its progress while it runs (the page polls this), then its result."""
    found = reconciliation_run_for_shop(shop_id=request.shop.pk, run_id=run_id)
    if found is None:
        raise Http404
    run, mismatches = found
    return render(request, "orders/_reconciliation_run.html", {"run": run, "mismatches": mismatches})

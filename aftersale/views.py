"""Console pages of the after-sale workbench: cases by nearest deadline, one case with exactly the actions its state allows."""
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersale.constants import MerchantAction
from aftersale.forms import CaseFilterForm, OperateForm
from aftersale.rule_selectors import rule_approvals_of
from aftersale.selectors import (
    CaseFilters,
    aftersale_detail_rows,
    aftersale_get_for_shops,
    aftersale_list_rows,
    aftersale_timeline,
    evidence_file_get,
    return_addresses_for_shops,
)
from aftersale.services import aftersale_actions_allowed, aftersale_operate
from aftersale.services.common import case_refundable
from aftersale.services.evidence import evidence_upload
from aftersale.services.return_addresses import RETURN_ADDRESSES_URL
from orders.events import order_event_kind_label
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.console import forbidden, input_keep, input_kept, shop_record_or_404, shop_required
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.permissions import Perm, user_can
from shop_admin.kernel.selectors import user_shop_ids
from shop_admin.kernel.text import domain_error_text, form_errors_text

PAGE_SIZE = 50


@shop_required(perm=Perm.ORDER_VIEW)
def aftersale_list_view(request):
    form = CaseFilterForm(request.GET)
    cases, next_cursor = [], None
    if form.is_valid():  # a bad filter shows its error and an empty list, never a 500
        data = form.cleaned_data
        filters = CaseFilters(status=data["status"] or None, type=data["type"] or None, order_no=data["order"] or None)
        try:
            cases, next_cursor = aftersale_list_rows(
                shop_ids={request.shop.pk}, filters=filters, now=timezone.now(), cursor=data["cursor"] or None, limit=PAGE_SIZE
            )
        except DomainError as exc:
            messages.error(request, domain_error_text(exc, labels=form))
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "aftersale/aftersale_list.html",
        {"form": form, "cases": cases, "next_cursor": next_cursor, "query": query.urlencode()},
    )


def _shop_case(request, case_id: int):
    return shop_record_or_404(request, lambda shop_ids: aftersale_get_for_shops(shop_ids=shop_ids, case_id=case_id))


@shop_required(perm=Perm.ORDER_VIEW)
def aftersale_detail_view(request, case_id: int):
    case = _shop_case(request, case_id)
    can_operate = user_can(user=request.user, shop_id=case.shop_id, perm=Perm.AFTERSALE)
    can_refund = user_can(user=request.user, shop_id=case.shop_id, perm=Perm.ORDER_MONEY)
    actions = aftersale_actions_allowed(case) if can_operate else []
    if not can_refund:
        actions = [a for a in actions if a != MerchantAction.REFUND]
    rows = aftersale_detail_rows(case=case)
    kept = input_kept(request, "operate")
    timeline = [(event, order_event_kind_label(event.kind)) for event in aftersale_timeline(case=case)]
    return render(
        request,
        "aftersale/aftersale_detail.html",
        {
            "case": case,
            "order": case.order,
            "lines": rows["lines"],
            "thread": rows["messages"],
            "timeline": timeline,
            "actions": actions,
            "claim": case.amount if case.amount is not None else case_refundable(case),
            "return_addresses": list(return_addresses_for_shops(shop_ids={case.shop_id})) if MerchantAction.AGREE in actions else [],
            "return_addresses_url": RETURN_ADDRESSES_URL,
            "form": OperateForm(initial=kept if kept.get("action") == MerchantAction.RESHIP else None),
            "kept": kept,
            "now": timezone.now(),
            "approved_by_rule": rule_approvals_of(case_ids=[case.pk]).get(case.pk),
        },
    )


@require_POST
@shop_required(perm=Perm.ORDER_VIEW)
def aftersale_operate_view(request, case_id: int):
    case = _shop_case(request, case_id)
    if not user_can(user=request.user, shop_id=case.shop_id, perm=Perm.AFTERSALE):
        return forbidden(request, _("您的角色无权处理售后"))
    form = OperateForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        input_keep(request, "operate")
        return redirect("aftersale:detail", case_id=case.pk)
    data = form.cleaned_data
    if data["action"] == MerchantAction.REFUND and not user_can(user=request.user, shop_id=case.shop_id, perm=Perm.ORDER_MONEY):
        return forbidden(request, _("您的角色无权退款"))
    try:
        evidence = list(data["evidence"])
        upload = request.FILES.get("evidence_file")
        if upload and data["action"] in (MerchantAction.REJECT, MerchantAction.MESSAGE):
            evidence.append(evidence_upload(case=case, actor=Actor.for_user(request.user), upload=upload).url)
        aftersale_operate(
            case=case,
            actor=Actor.for_user(request.user),
            action=data["action"],
            reason=data["reason"],
            evidence=evidence,
            deductions=form.deductions(),
            message=data["message"],
            return_address_id=data["return_address_id"],
            carrier=data["carrier"],
            tracking_no=data["tracking_no"],
        )
        messages.success(request, _("已%(action)s") % {"action": MerchantAction(data["action"]).label})
    except DomainError as exc:
        text = domain_error_text(exc, labels=form)
        if exc.code == "return_address_required":  # the refusal says where to go: the address book
            text = format_html('{} <a href="{}">{}</a>', text, RETURN_ADDRESSES_URL, _("添加退货地址"))
        messages.error(request, text)
        input_keep(request, "operate")
    return redirect("aftersale:detail", case_id=case.pk)


def aftersale_evidence_view(request, case_id: int, file_id: int):
    """One evidence file, for the case's own shop or a platform arbitrator; anyone else gets a 404."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    if request.user.has_perm("aftersale.view_aftersalecase"):
        shop_ids = None
    else:
        shop_ids = user_shop_ids(user=request.user)
    evidence = evidence_file_get(case_id=case_id, file_id=file_id, shop_ids=shop_ids)
    if evidence is None:
        raise Http404
    response = FileResponse(evidence.file.open("rb"), content_type=evidence.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, max-age=3600"
    return response

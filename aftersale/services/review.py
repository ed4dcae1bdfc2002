"""The merchant's review and the goods coming back: agree, reject, message, the return parcel, inspection, refund, reship.

`aftersale_operate` is the one entry the workbench and the open API share; each action
is refused with 409 when the case's state does not allow it and 422 naming the field
when its input is wrong.
"""
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_fsm import can_proceed

from aftersale.constants import (
    OPEN_STATUSES,
    RETURN_TYPES,
    AfterSaleStatus,
    AfterSaleType,
    MerchantAction,
)
from aftersale.events import (
    aftersale_agreed_event,
    aftersale_message_event,
    aftersale_refunded_event,
    aftersale_rejected_event,
    aftersale_reshipped_event,
    aftersale_return_received_event,
    aftersale_return_shipped_event,
)
from aftersale.models import AfterSaleCase
from aftersale.services.common import (
    ZERO,
    case_end,
    case_lines_map,
    case_lock,
    case_refund,
    case_refundable,
    case_responded,
    case_transition,
    message_add,
    refusal,
)
from aftersale.services.intercept import case_intercept, case_refund_intercepted
from aftersale.services.return_addresses import return_address_pick
from logistics.services import tracking_validate
from logistics.services.intercept import shipments_interceptable
from orders.constants import OrderStatus
from orders.services.stock import stock_return_lines
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.errors import Invalid
from shop_admin.kernel.shoprules import shop_rule

S = AfterSaleStatus


def aftersale_actions_allowed(case: AfterSaleCase) -> list[str]:
    """Exactly the merchant actions the case's state allows, in the order the workbench shows them."""
    allowed = []
    if can_proceed(case.approve_return) or can_proceed(case.approve) or can_proceed(case.approve_refund):
        allowed.append(MerchantAction.AGREE)
    if can_proceed(case.reject):
        allowed.append(MerchantAction.REJECT)
    if can_proceed(case.receive_return) or can_proceed(case.refund_intercepted):
        allowed.append(MerchantAction.CONFIRM_RETURN)
    if can_proceed(case.refund_after_inspection):
        allowed.append(MerchantAction.REFUND)
    if can_proceed(case.reship_exchange) or can_proceed(case.reship_missing):
        allowed.append(MerchantAction.RESHIP)
    if case.status in OPEN_STATUSES:
        allowed.append(MerchantAction.MESSAGE)
    return [str(a) for a in allowed]


# --- agreeing: shared by the merchant and the clock ---


def case_approve(
    case: AfterSaleCase, actor: Actor, *, now: datetime, return_address_id: int | None = None, reason: str = "", without_return: bool = False
) -> str:
    """Agree to the claim as it stands: a return is awaited, missing items reshipped, a refund-only claim paid now.

    A return goes to the address named, else the shop's default (the clock names none); a shop without one is refused.
    `without_return`: a return-and-refund claim is refunded now and the buyer keeps the goods (a low-value claim).
    """
    if case.type in RETURN_TYPES and not (without_return and case.type == AfterSaleType.RETURN_REFUND):
        address = return_address_pick(shop_id=case.shop_id, address_id=return_address_id)
        from_status = case_transition(case, "approve_return", MerchantAction.AGREE)
        case.return_address = address.text
        case.return_deadline = now + settings.AFTERSALE_RETURN_SHIP_WINDOW
        case.due_at = case.return_deadline
        case.save()
        deadline_schedule(name="aftersale_return_timeout", pk=case.pk, at=case.return_deadline)
    elif case.type == AfterSaleType.RESHIP:
        from_status = case_transition(case, "approve", MerchantAction.AGREE)
        case.due_at = now + shop_rule(case.shop_id, "ship_promise")  # the merchant owes the parcel like any shipment, by its promise
        case.save()
    elif case.wants_money_only() and case.order.status == OrderStatus.SHIPPED and (parcels := shipments_interceptable(order_id=case.order_id)):
        # Refund only, shipped and not signed: the parcel is intercepted first; its tracking decides what follows.
        from_status = case_transition(case, "await_interception", MerchantAction.AGREE)
        case_intercept(case, actor, now=now, parcels=parcels)
    else:
        from_status = case_transition(case, "approve_refund", MerchantAction.AGREE)
        case_refund(case, actor, amount=case.amount or ZERO, reason=reason or case.reason)
        case_end(case, actor, now)
        aftersale_refunded_event(case=case, actor=actor, from_status=from_status, reason=reason)
    return from_status


def aftersale_agree(
    *, case: AfterSaleCase, actor: Actor, return_address_id: int | None = None, without_return: bool = False, rule=None
) -> AfterSaleCase:
    """The merchant agrees (or a shop's rule does, in its name: `rule`, written on the event)."""
    with transaction.atomic():
        _order, case = case_lock(case.pk)
        now = timezone.now()
        case_responded(case, actor, now)
        reason = gettext_noop("按自动审核规则同意") if rule is not None else gettext_noop("商家同意")
        from_status = case_approve(case, actor, now=now, return_address_id=return_address_id, reason=reason, without_return=without_return)
        aftersale_agreed_event(case=case, actor=actor, from_status=from_status, rule=rule)
    return case


def aftersale_reject(*, case: AfterSaleCase, actor: Actor, reason: str, evidence: list[str]) -> AfterSaleCase:
    """Refuse with a reason and evidence (both required); the buyer may take it to the platform for 7 days."""
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = _("拒绝须填写原因")
    if not evidence:
        errors["evidence"] = _("拒绝须提供凭证")
    if errors:
        raise Invalid(_("拒绝须填写原因并提供凭证"), code="invalid_input", details={"fields": errors})
    with transaction.atomic():
        _order, case = case_lock(case.pk)
        now = timezone.now()
        after_inspection = case.status == S.INSPECTING
        from_status = case_transition(case, "reject", MerchantAction.REJECT)
        case_responded(case, actor, now)
        case.reject_reason = reason.strip()[:200]
        case.reject_evidence = list(evidence)
        case.rejected_after_inspection = after_inspection
        case.appeal_deadline = now + settings.AFTERSALE_APPEAL_WINDOW
        message_add(case, actor, body=_("商家拒绝：%(reason)s") % {"reason": case.reject_reason}, evidence=evidence)
        case_end(case, actor, now)
        aftersale_rejected_event(case=case, actor=actor, from_status=from_status)
    return case


def aftersale_message(*, case: AfterSaleCase, actor: Actor, body: str, evidence: list[str] | None = None) -> AfterSaleCase:
    """The merchant writes to the buyer (negotiation, kept as evidence); the reply deadline keeps running."""
    if not (body or "").strip():
        raise Invalid(_("留言不能为空"), code="invalid_input", details={"fields": {"message": _("不能为空")}})
    with transaction.atomic():
        _order, case = case_lock(case.pk)
        if case.status not in OPEN_STATUSES:
            raise refusal(case, MerchantAction.MESSAGE)
        from_status = ""
        if can_proceed(case.negotiate) and case.status == S.REQUESTED:
            from_status = case_transition(case, "negotiate", MerchantAction.MESSAGE)
        case_responded(case, actor, timezone.now())
        case.save()
        message = message_add(case, actor, body=body.strip(), evidence=evidence)
        aftersale_message_event(case=case, actor=actor, message=message, from_status=from_status)
    return case


def aftersale_buyer_message(*, case: AfterSaleCase, actor: Actor, body: str, evidence: list[str] | None = None) -> AfterSaleCase:
    """The buyer answers in the thread."""
    if not (body or "").strip():
        raise Invalid(_("留言不能为空"), code="invalid_input", details={"fields": {"message": _("不能为空")}})
    with transaction.atomic():
        _order, case = case_lock(case.pk)
        if case.status not in OPEN_STATUSES:
            raise refusal(case, MerchantAction.MESSAGE)
        message = message_add(case, actor, body=body.strip(), evidence=evidence)
        aftersale_message_event(case=case, actor=actor, message=message)
    return case


# --- the goods coming back ---


def aftersale_return_ship(*, case: AfterSaleCase, actor: Actor, carrier: str, tracking_no: str) -> AfterSaleCase:
    """The buyer ships the return: the carrier and number are checked like any shipment's."""
    code, number = tracking_validate(carrier=carrier, tracking_no=tracking_no)
    with transaction.atomic():
        _order, case = case_lock(case.pk)
        from_status = case_transition(case, "ship_return", "return_shipment")
        case.return_carrier, case.return_tracking_no = code, number
        case.return_shipped_at = timezone.now()
        case.due_at = None  # waiting for the carrier; the merchant's inspection clock starts on receipt
        case.save()
        aftersale_return_shipped_event(case=case, actor=actor, from_status=from_status)
    return case


def aftersale_confirm_return(*, case: AfterSaleCase, actor: Actor) -> AfterSaleCase:
    """The merchant has the goods back: 24 h to inspect, or the refund goes out on its own."""
    with transaction.atomic():
        _order, case = case_lock(case.pk)
        now = timezone.now()
        if can_proceed(case.refund_intercepted):  # the intercepted parcel is back in the shop before its tracking said so
            case_responded(case, actor, now)
            case_refund_intercepted(case, actor, now=now)
            return case
        from_status = case_transition(case, "receive_return", MerchantAction.CONFIRM_RETURN)
        case.return_received_at = now
        case.inspect_deadline = now + settings.AFTERSALE_INSPECT_WINDOW
        case.due_at = case.inspect_deadline
        case.save()
        deadline_schedule(name="aftersale_inspect_timeout", pk=case.pk, at=case.inspect_deadline)
        aftersale_return_received_event(case=case, actor=actor, from_status=from_status)
    return case


def deductions_clean(raw, *, limit: Decimal) -> list[dict]:
    """Deductions (freight, damage) each with a reason and an amount; together never above the refund."""
    rows, errors, total = [], {}, ZERO
    for index, item in enumerate(raw or []):
        reason = str((item or {}).get("reason", "")).strip() if isinstance(item, dict) else ""
        try:
            amount = Decimal(str(item.get("amount"))) if isinstance(item, dict) else None
        except (InvalidOperation, ValueError):
            amount = None
        if not reason:
            errors[f"deductions.{index}.reason"] = _("请说明扣款原因")
        if amount is None or not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            errors[f"deductions.{index}.amount"] = _("须为大于0的金额，最多两位小数")
        else:
            total += amount
            rows.append({"reason": reason[:100], "amount": f"{amount:.2f}"})
    if not errors and total > limit:
        errors["deductions"] = _("扣款合计%(total)s元超过退款金额%(limit)s元") % {"total": total, "limit": limit}
    if errors:
        raise Invalid(_("扣款有误"), code="invalid_input", details={"fields": errors})
    return rows


def case_refund_after_inspection(case: AfterSaleCase, actor: Actor, *, now: datetime, deductions: list[dict], reason: str) -> str:
    from_status = case_transition(case, "refund_after_inspection", MerchantAction.REFUND)
    claim = case.amount if case.amount is not None else case_refundable(case)
    case.deductions = deductions
    amount = claim - sum((Decimal(d["amount"]) for d in deductions), ZERO)
    case_refund(case, actor, amount=amount, reason=reason)
    # The returned goods are in the merchant's hands and the case is settled: they go back on sale where they left from.
    stock_return_lines(order=case.order, lines=case_lines_map(case), actor=actor, reason=gettext_noop("退货验收后入库"), source=f"aftersale:{case.pk}")
    case_end(case, actor, now)
    aftersale_refunded_event(case=case, actor=actor, from_status=from_status, reason=reason)
    return from_status


def aftersale_refund(*, case: AfterSaleCase, actor: Actor, deductions=None, reason: str = "") -> AfterSaleCase:
    """After inspection: the claim less the stated deductions goes back by the original channel."""
    with transaction.atomic():
        _order, case = case_lock(case.pk)
        if not can_proceed(case.refund_after_inspection):
            raise refusal(case, MerchantAction.REFUND)
        claim = case.amount if case.amount is not None else case_refundable(case)
        rows = deductions_clean(deductions, limit=claim)
        case_refund_after_inspection(case, actor, now=timezone.now(), deductions=rows, reason=reason or _("验货通过，退款"))
    return case


def aftersale_reship(*, case: AfterSaleCase, actor: Actor, carrier: str, tracking_no: str) -> AfterSaleCase:
    """The exchange or the missing items leave with a parcel of their own."""
    code, number = tracking_validate(carrier=carrier, tracking_no=tracking_no)
    with transaction.atomic():
        _order, case = case_lock(case.pk)
        name = "reship_missing" if case.type == AfterSaleType.RESHIP else "reship_exchange"
        from_status = case_transition(case, name, MerchantAction.RESHIP)
        case.reship_carrier, case.reship_tracking_no = code, number
        case_end(case, actor, timezone.now())
        aftersale_reshipped_event(case=case, actor=actor, from_status=from_status)
    return case


def aftersale_operate(
    *,
    case: AfterSaleCase,
    actor: Actor,
    action: str,
    reason: str = "",
    evidence: list[str] | None = None,
    deductions=None,
    message: str = "",
    return_address_id: int | None = None,
    carrier: str = "",
    tracking_no: str = "",
) -> AfterSaleCase:
    """One merchant action by name, as the workbench and the open API send it."""
    if action not in MerchantAction.values:
        raise Invalid(_("不支持的操作"), code="invalid_input", details={"fields": {"action": action}})
    if action not in aftersale_actions_allowed(case):
        raise refusal(case, action)
    if action == MerchantAction.AGREE:
        return aftersale_agree(case=case, actor=actor, return_address_id=return_address_id)
    if action == MerchantAction.REJECT:
        return aftersale_reject(case=case, actor=actor, reason=reason, evidence=evidence or [])
    if action == MerchantAction.MESSAGE:
        return aftersale_message(case=case, actor=actor, body=message or reason, evidence=evidence)
    if action == MerchantAction.CONFIRM_RETURN:
        return aftersale_confirm_return(case=case, actor=actor)
    if action == MerchantAction.REFUND:
        return aftersale_refund(case=case, actor=actor, deductions=deductions, reason=reason)
    return aftersale_reship(case=case, actor=actor, carrier=carrier, tracking_no=tracking_no)

"""Platform arbitration: the buyer escalates a rejected case within 7 days; an arbitrator's ruling binds both sides."""
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersale.constants import AfterSaleStatus, Ruling
from aftersale.events import aftersale_escalated_event, aftersale_refunded_event, aftersale_ruled_event
from aftersale.models import AfterSaleCase, BuyerMark, MerchantPenalty
from aftersale.services.common import case_end, case_lock, case_refund, case_refundable, case_transition, message_add
from orders.models import Buyer
from orders.services.lifecycle import order_auto_confirm_pause
from orders.services.refunds import deposit_compensation_pay
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import Conflict, Invalid

ZERO = Decimal("0.00")


def aftersale_escalate(*, case: AfterSaleCase, actor: Actor, reason: str) -> AfterSaleCase:
    """The buyer asks the platform to decide a rejected case, up to 7 days after the rejection."""
    if not (reason or "").strip():
        raise Invalid(_("请填写申请仲裁的理由"), code="invalid_input", details={"fields": {"reason": _("不能为空")}})
    with transaction.atomic():
        order, case = case_lock(case.pk)
        now = timezone.now()
        if case.status == AfterSaleStatus.REJECTED and case.appeal_deadline and now > case.appeal_deadline:
            raise Conflict(
                _("已超过申请仲裁期限（%(date)s）") % {"date": timezone.localtime(case.appeal_deadline).strftime("%Y-%m-%d %H:%M")},
                code="arbitration_window_closed",
                details={"appeal_deadline": timezone.localtime(case.appeal_deadline).isoformat()},
            )
        from_status = case_transition(case, "escalate", "arbitration")
        case.arbitration_reason = reason.strip()[:300]
        case.due_at = now + settings.AFTERSALE_ARBITRATION_TARGET
        case.closed_at = None
        case.save()
        message_add(case, actor, body=_("申请平台仲裁：%(reason)s") % {"reason": case.arbitration_reason})
        order_auto_confirm_pause(order=order, actor=actor, reason=gettext_noop("售后仲裁中，暂停自动确认收货"))
        aftersale_escalated_event(case=case, actor=actor, from_status=from_status, reason=case.arbitration_reason)
    return case


def aftersale_rule(
    *,
    case: AfterSaleCase,
    actor: Actor,
    ruling: str,
    note: str,
    compensation: Decimal = ZERO,
    points: int | None = None,
) -> AfterSaleCase:
    """The arbitrator decides. For the buyer: a forced refund, compensation from the merchant's deposit, penalty points.
    For the merchant: the claim is rejected and the buyer marked for bad faith."""
    errors = {}
    if ruling not in Ruling.values:
        errors["ruling"] = _("请选择仲裁结果")
    if not (note or "").strip():
        errors["note"] = _("请填写仲裁说明")
    if compensation is None or compensation < 0:
        errors["compensation"] = _("须为0或正数")
    if errors:
        raise Invalid(_("仲裁信息有误"), code="invalid_input", details={"fields": errors})
    with transaction.atomic():
        order, case = case_lock(case.pk)
        now = timezone.now()
        case.ruling = ruling
        case.ruling_note = note.strip()[:300]
        if ruling == Ruling.FOR_BUYER:
            from_status = case_transition(case, "rule_for_buyer", "ruling")
            claim = case.amount if case.amount is not None else case_refundable(case)
            case_refund(case, actor, amount=claim, reason=gettext_noop("平台仲裁：强制退款"))
            points = settings.AFTERSALE_PENALTY_POINTS if points is None else points
            MerchantPenalty.objects.create(
                shop_id=case.shop_id, case=case, compensation=compensation, points=points, note=case.ruling_note, ruled_by=actor.user
            )
            if compensation > 0:
                deposit_compensation_pay(
                    order=order, amount=compensation, actor=actor, reason=case.ruling_note, source=f"aftersale:{case.pk}"
                )
            aftersale_refunded_event(case=case, actor=actor, from_status=from_status, reason=gettext_noop("平台仲裁：强制退款"))
        else:
            from_status = case_transition(case, "rule_for_merchant", "ruling")
            points = 0
            Buyer.objects.filter(pk=case.buyer_id).update(is_flagged=True)
            BuyerMark.objects.create(buyer_id=case.buyer_id, case=case, reason=_("仲裁认定恶意售后：%(note)s") % {"note": case.ruling_note})
        message_add(case, actor, body=_("平台仲裁结果：%(ruling)s。%(note)s") % {"ruling": case.get_ruling_display(), "note": case.ruling_note})
        case_end(case, actor, now)
        aftersale_ruled_event(case=case, actor=actor, from_status=from_status, compensation=f"{compensation:.2f}", points=points)
    return case

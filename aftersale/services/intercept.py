"""Refund only after shipping: the unsigned parcel is intercepted first, and its tracking decides what follows.

Domain rules: "not yet signed -> intercept the parcel, then refund; signed -> negotiate". Agreeing
(the merchant or the clock) asks logistics to intercept every parcel of the order still on its way
and leaves the case approved, waiting. The carrier's pushes end it through the handler registered
with logistics: the parcel turned back (or refused at the door) once every intercepted parcel is
back, the refund goes out and the goods go back on sale; signed before the interception took, the
goods are with the buyer, so the case becomes a return and refund with the shop's return address
and the 7-day return clock (the thread stays open to negotiate). The merchant may also confirm
the parcel back in the shop before its tracking says so.
"""
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersale.constants import AfterSaleStatus, AfterSaleType, MerchantAction
from aftersale.events import aftersale_intercept_failed_event, aftersale_intercepted_event, aftersale_refunded_event
from aftersale.models import AfterSaleCase
from aftersale.services.common import (
    ZERO,
    case_end,
    case_lines_map,
    case_lock,
    case_refund,
    case_transition,
    message_add,
)
from aftersale.services.return_addresses import return_address_default
from logistics.constants import InterceptResult
from logistics.models import Shipment
from logistics.services.intercept import shipment_intercept_request
from orders.services.stock import stock_return_lines
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.deadlines import deadline_schedule

S = AfterSaleStatus


def case_intercept(case: AfterSaleCase, actor: Actor, *, now: datetime, parcels: list[Shipment]) -> None:
    """The case was just approved for interception: ask for each parcel; nothing is due from the merchant meanwhile."""
    for parcel in parcels:
        shipment_intercept_request(shipment=parcel, actor=actor, reason=gettext_noop("仅退款：拦截包裹后退款"), source=f"aftersale:{case.pk}")
        aftersale_intercepted_event(case=case, actor=actor, carrier=parcel.carrier, tracking_no=parcel.tracking_no)
    case.intercepted_at = now
    case.due_at = None
    case.save()


def case_refund_intercepted(case: AfterSaleCase, actor: Actor, *, now: datetime) -> str:
    """The goods are stopped: the agreed refund goes out, the case ends, the units go back on sale."""
    from_status = case_transition(case, "refund_intercepted", MerchantAction.CONFIRM_RETURN)
    reason = _("包裹拦截成功，退款")
    case_refund(case, actor, amount=case.amount or ZERO, reason=reason)
    stock_return_lines(order=case.order, lines=case_lines_map(case), actor=actor, reason=gettext_noop("拦截包裹退回入库"), source=f"aftersale:{case.pk}")
    case_end(case, actor, now)
    aftersale_refunded_event(case=case, actor=actor, from_status=from_status, reason=reason)
    return from_status


def _return_after_signing(case: AfterSaleCase, actor: Actor, *, now: datetime) -> None:
    from_status = case_transition(case, "return_after_signing", "return_shipment")
    case.type = AfterSaleType.RETURN_REFUND
    # The carrier's push must not be refused for want of an address: without a default the buyer is told to wait here for one.
    default = return_address_default(shop_id=case.shop_id)
    case.return_address = default.text if default else ""
    case.return_deadline = now + settings.AFTERSALE_RETURN_SHIP_WINDOW
    case.due_at = case.return_deadline
    case.save()
    deadline_schedule(name="aftersale_return_timeout", pk=case.pk, at=case.return_deadline)
    days = settings.AFTERSALE_RETURN_SHIP_WINDOW.days
    if default:
        body = _("包裹在拦截前已签收：请在%(days)d天内将商品寄回%(address)s，商家收货验收后退款；如有异议可在此协商。") % {
            "days": days, "address": case.return_address
        }
    else:
        body = _("包裹在拦截前已签收：商家将在此告知退货地址，请在%(days)d天内寄回，商家收货验收后退款；如有异议可在此协商。") % {"days": days}
    message_add(case, Actor.system("aftersale_intercept"), body=body)
    aftersale_intercept_failed_event(case=case, actor=actor, from_status=from_status)


def aftersale_intercept_outcome(*, shipment: Shipment, source_id: int, actor: Actor) -> None:
    """Logistics learned how an interception this case asked for ended (in the carrier push's transaction)."""
    _order, case = case_lock(source_id)
    if case.status != S.APPROVED or case.type != AfterSaleType.REFUND_ONLY:
        return  # the world moved on (the merchant confirmed the parcel back, a ruling): nothing left to do
    now = timezone.now()
    if shipment.intercept_result == InterceptResult.SIGNED:
        _return_after_signing(case, actor, now=now)
        return
    waiting = Shipment.objects.filter(intercept_source=f"aftersale:{case.pk}", intercept_result="").exclude(pk=shipment.pk).exists()
    if not waiting:  # every intercepted parcel of the order is on its way back
        case_refund_intercepted(case, actor, now=now)

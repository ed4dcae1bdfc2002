"""Signed but the buyer says not received: the tracking evidence attached to the exception, and the merchant's two answers.

The merchant either reships at its own freight (a new parcel marked as a reship)
or answers with evidence (locker code, signature, courier photo) and a note;
either way the `not_received` exception is resolved with what was done.
"""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from logistics.constants import TrackingCode
from logistics.events import not_received_answered_event, parcel_reshipped_event
from logistics.models import Shipment, TrackingEvent
from logistics.services.ship import shipment_record, tracking_no_free, tracking_validate
from orders.constants import ExceptionKind, ExceptionStatus
from orders.models import Order, OrderException
from orders.services.common import order_lock
from orders.services.exceptions import exception_resolve
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import Conflict, Invalid

EVIDENCE_EVENTS = 5  # the last few steps of each parcel are what an arbitrator reads


def not_received_evidence(*, order: Order) -> dict:
    """The order's parcels as the carrier last reported them: status, signed time and place, the last events (newest first)."""
    parcels = []
    for shipment in Shipment.objects.filter(order_id=order.pk).order_by("shipped_at", "pk"):
        events = list(TrackingEvent.objects.filter(shipment=shipment).order_by("-occurred_at", "-pk")[:EVIDENCE_EVENTS])
        signed = next((e for e in events if e.code == TrackingCode.SIGNED), None)
        parcels.append(
            {
                "carrier": shipment.carrier,
                "tracking_no": shipment.tracking_no,
                "status": shipment.status,
                "signed_at": timezone.localtime(shipment.signed_at).isoformat() if shipment.signed_at else None,
                "signed_location": signed.location if signed else "",
                "signed_description": signed.description if signed else "",
                "last_events": [
                    {
                        "code": e.code,
                        "time": timezone.localtime(e.occurred_at).isoformat(),
                        "location": e.location,
                        "description": e.description,
                    }
                    for e in events
                ],
            }
        )
    return {"tracking": parcels}


def _open_not_received(order: Order) -> OrderException:
    exception = OrderException.objects.filter(order_id=order.pk, kind=ExceptionKind.NOT_RECEIVED, status=ExceptionStatus.OPEN).first()
    if exception is None:
        raise Conflict(_("该订单没有待处理的“签收未收到”异常"), code="no_open_not_received")
    return exception


def shipment_reship(*, order: Order, actor: Actor, carrier: str, tracking_no: str, door_delivery: bool = False) -> Shipment:
    """Really not delivered: a new parcel at the merchant's freight; the exception is resolved as reshipped."""
    code, tracking_no = tracking_validate(carrier=carrier, tracking_no=tracking_no)
    with transaction.atomic():
        order = order_lock(order.pk)
        exception = _open_not_received(order)
        tracking_no_free(code=code, tracking_no=tracking_no, order=order)
        shipment = shipment_record(order=order, actor=actor, code=code, tracking_no=tracking_no, door_delivery=door_delivery, is_reship=True)
        parcel_reshipped_event(order=order, actor=actor, shipment=shipment, exception_id=exception.pk)
        exception_resolve(
            exception=exception,
            actor=actor,
            resolution=gettext_noop("商家补发（运费由商家承担）：%(carrier)s %(no)s"),
            resolution_params={"carrier": shipment.carrier, "no": tracking_no},
        )
        return shipment


def not_received_answer(*, order: Order, actor: Actor, note: str, evidence: list[str]) -> OrderException:
    """The parcel was delivered: the merchant answers with a note and evidence (urls), which resolves the exception."""
    note = (note or "").strip()
    evidence = [url.strip() for url in evidence or [] if url and url.strip()]
    errors = {}
    if not note:
        errors["note"] = _("请说明签收情况")
    if not evidence:
        errors["evidence"] = _("请提供至少一个凭证链接（快递柜取件码、签收底单、派件照片）")
    elif any(not url.startswith(("http://", "https://")) or len(url) > 500 for url in evidence):
        errors["evidence"] = _("凭证须为 http(s) 链接")
    if errors:
        raise Invalid(_("举证信息有误"), code="invalid_input", details={"fields": errors})
    with transaction.atomic():
        order = order_lock(order.pk)
        exception = _open_not_received(order)
        OrderException.objects.filter(pk=exception.pk).update(data={**exception.data, "answer": {"note": note, "evidence": evidence}})
        not_received_answered_event(order=order, actor=actor, note=note, evidence=evidence, exception_id=exception.pk)
        return exception_resolve(
            exception=exception, actor=actor, resolution=gettext_noop("商家举证：%(note)s"), resolution_params={"note": note}
        )


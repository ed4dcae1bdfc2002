"""The timeline events of the one exception record: raised, resolved, escalated, its evidence and compensation."""
from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext_noop

from orders.constants import EventKind
from orders.events import EventRow, order_event_append, order_events_write
from orders.models import Order, OrderEvent
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.text import stored_params


def exception_opened_event(*, order: Order, actor: Actor, exception) -> None:
    """reason: the exception's detail. data: kind, exception_id, reason_params (the detail's)."""
    exceptions_opened_events(exceptions=[exception], actor=actor)


def _opened_data(exception) -> dict:
    return stored_params({"kind": exception.kind, "exception_id": exception.pk}, "reason_params", exception.data.get("detail_params"))


def exceptions_resolved_events(*, exceptions: Iterable, actor: Actor) -> None:
    """Exceptions resolved, one row each (one INSERT for a batch). reason: the resolution.
    data: kind, exception_id, remedy, note, evidence, coupon_code, reason_params (the resolution's)."""
    order_events_write(
        [
            EventRow(
                order_id=e.order_id,
                kind=EventKind.EXCEPTION_RESOLVED,
                actor=actor,
                reason=e.resolution,
                data=stored_params(
                    {
                        "kind": e.kind,
                        "exception_id": e.pk,
                        "remedy": e.remedy,
                        "note": e.note,
                        "evidence": e.evidence,
                        "coupon_code": e.coupon.code if e.coupon_id else None,
                    },
                    "reason_params",
                    e.data.get("resolution_params"),
                ),
            )
            for e in exceptions
        ]
    )


def exception_escalated_events(*, exceptions: list, actor: Actor) -> None:
    """Open exceptions past their deadline, escalated to the platform (one event each, one INSERT).
    reason: the kind and deadline in words. data: kind, exception_id, deadline, reason_params."""
    order_events_write(
        [
            EventRow(
                order_id=exception.order_id,
                kind=EventKind.EXCEPTION_ESCALATED,
                actor=actor,
                reason=gettext_noop("%(kind)s超过处理时限（%(deadline)s），已升级平台处理"),
                data={
                    "kind": exception.kind,
                    "exception_id": exception.pk,
                    "deadline": exception.deadline.isoformat(),
                    "reason_params": {
                        "kind": exception.kind, "deadline": timezone.localtime(exception.deadline).strftime("%Y-%m-%d %H:%M")
                    },
                },
            )
            for exception in exceptions
        ]
    )


def exception_evidence_event(*, order: Order, actor: Actor, exception, urls: list[str]) -> OrderEvent:
    """Evidence attached to an open exception. data: exception_id, urls (the ones added)."""
    return order_event_append(
        order=order, kind=EventKind.EXCEPTION_EVIDENCE, actor=actor, data={"exception_id": exception.pk, "urls": urls}
    )


def compensation_issued_event(*, order: Order, actor: Actor, coupon, exception) -> OrderEvent:
    """A compensation coupon for the buyer. data: coupon_code, amount, valid_to, exception_id."""
    return order_event_append(
        order=order,
        kind=EventKind.COMPENSATION_ISSUED,
        actor=actor,
        reason=f"{coupon.code} ¥{coupon.discount}",
        data={
            "coupon_code": coupon.code,
            "amount": str(coupon.discount),
            "valid_to": coupon.valid_to.isoformat(),
            "exception_id": exception.pk,
        },
    )


def exceptions_opened_events(*, exceptions: Iterable, actor: Actor) -> None:
    """Exceptions raised on one or many orders (a sweep), one row each, in one COPY; as exception_opened_event."""
    order_events_write(
        EventRow(order_id=e.order_id, kind=EventKind.EXCEPTION_OPENED, actor=actor, reason=e.detail, data=_opened_data(e))
        for e in exceptions
    )

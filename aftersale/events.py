"""One function per after-sale event kind; each writes to the order's timeline through orders' one writer.

Every event's `data` holds `aftersale_id`, which is how the case page finds its own timeline.
"""
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from aftersale.constants import AfterSaleEventKind as Kind
from aftersale.constants import ReportStatus
from aftersale.constants import ReviewEventKind as ReviewKind
from aftersale.models import AfterSaleCase
from orders.events import EventRow, order_event_append, order_events_write
from shop_admin.kernel.actors import Actor


@dataclass(frozen=True, kw_only=True)
class CaseMoved:
    """A case that moved, as its events tell it: a case row (`of`) or the values a sweep's batch moved set-wise."""

    case_id: int
    order_id: int
    type: str
    from_status: str
    to_status: str
    refund_id: int | None = None
    refund_amount: Decimal | None = None
    deductions: tuple = ()

    @classmethod
    def of(cls, case: AfterSaleCase, *, from_status: str) -> "CaseMoved":
        refund = case.refund if case.refund_id else None
        return cls(
            case_id=case.pk, order_id=case.order_id, type=case.type, from_status=from_status, to_status=case.status if from_status else "",
            refund_id=refund.pk if refund else None, refund_amount=refund.amount if refund else None,
            deductions=tuple(case.deductions or ()),
        )


def _cases_events(kind: str, cases: Iterable[CaseMoved], actor: Actor, *, reason: str = "", data=lambda moved: {}) -> None:
    order_events_write(
        EventRow(
            order_id=m.order_id, kind=kind, actor=actor, reason=reason, from_status=m.from_status, to_status=m.to_status,
            data={"aftersale_id": m.case_id, **data(m)},
        )
        for m in cases
    )


def _case_event(case: AfterSaleCase, kind: str, actor: Actor, *, reason: str = "", from_status: str = "", **data):
    return order_event_append(
        order=case.order,
        kind=kind,
        actor=actor,
        reason=reason,
        from_status=from_status,
        to_status=case.status if from_status else "",
        data={"aftersale_id": case.pk, **data},
    )


def aftersale_opened_event(*, case: AfterSaleCase, actor: Actor, lines: list[dict] | None = None):
    """reason: the buyer's reason. data: aftersale_id, type, amount, lines [{line_id, sku_id, quantity}]."""
    amount = str(case.amount) if case.amount is not None else None
    return _case_event(case, Kind.OPENED, actor, reason=case.reason, type=case.type, amount=amount, lines=lines or [])


def aftersale_auto_approved_event(*, case: AfterSaleCase, actor: Actor, from_status: str) -> None:
    """No answer by the reply deadline: the claim is approved. data: aftersale_id, type, to_status."""
    aftersale_auto_approved_events(cases=[CaseMoved.of(case, from_status=from_status)], actor=actor)


def aftersale_auto_approved_events(*, cases: Iterable[CaseMoved], actor: Actor) -> None:
    """One or many claims approved by the clock, one row each, in one COPY; as aftersale_auto_approved_event."""
    _cases_events(Kind.AUTO_APPROVED, cases, actor, data=lambda m: {"type": m.type, "to_status": m.to_status})


def aftersale_agreed_event(*, case: AfterSaleCase, actor: Actor, from_status: str, rule=None):
    """The merchant agreed, or a shop's rule did. data: aftersale_id, return_address (for returns), rule {id, name} (by a rule)."""
    by_rule = {"rule": {"id": rule.pk, "name": rule.name}} if rule is not None else {}
    return _case_event(case, Kind.AGREED, actor, from_status=from_status, return_address=case.return_address, **by_rule)


def aftersale_rejected_event(*, case: AfterSaleCase, actor: Actor, from_status: str):
    """reason: the merchant's reason. data: aftersale_id, evidence, after_inspection."""
    return _case_event(
        case, Kind.REJECTED, actor, from_status=from_status, reason=case.reject_reason,
        evidence=case.reject_evidence, after_inspection=case.rejected_after_inspection,
    )


def aftersale_message_event(*, case: AfterSaleCase, actor: Actor, message, from_status: str = ""):
    """reason: the text (cut to fit). data: aftersale_id, message_id, author, evidence."""
    return _case_event(
        case, Kind.MESSAGE, actor, from_status=from_status, reason=message.body[:300],
        message_id=message.pk, author=message.author, evidence=message.evidence,
    )


def aftersale_return_shipped_event(*, case: AfterSaleCase, actor: Actor, from_status: str):
    """data: aftersale_id, carrier, tracking_no."""
    return _case_event(
        case, Kind.RETURN_SHIPPED, actor, from_status=from_status, carrier=case.return_carrier, tracking_no=case.return_tracking_no
    )


def aftersale_return_received_event(*, case: AfterSaleCase, actor: Actor, from_status: str):
    """data: aftersale_id, inspect_deadline."""
    return _case_event(case, Kind.RETURN_RECEIVED, actor, from_status=from_status, inspect_deadline=case.inspect_deadline.isoformat())


def aftersale_refunded_event(*, case: AfterSaleCase, actor: Actor, from_status: str, reason: str = "") -> None:
    """reason: why (the clock, the merchant, the platform). data: aftersale_id, refund_id, amount, deductions."""
    aftersale_refunded_events(cases=[CaseMoved.of(case, from_status=from_status)], actor=actor, reason=reason)


def aftersale_refunded_events(*, cases: Iterable[CaseMoved], actor: Actor, reason: str = "") -> None:
    """One or many cases refunded, one row each, in one COPY; as aftersale_refunded_event."""
    _cases_events(
        Kind.REFUNDED, cases, actor, reason=reason,
        data=lambda m: {
            "refund_id": m.refund_id, "amount": str(m.refund_amount) if m.refund_id else "0.00", "deductions": list(m.deductions)
        },
    )


def aftersale_reshipped_event(*, case: AfterSaleCase, actor: Actor, from_status: str):
    """data: aftersale_id, carrier, tracking_no."""
    return _case_event(
        case, Kind.RESHIPPED, actor, from_status=from_status, carrier=case.reship_carrier, tracking_no=case.reship_tracking_no
    )


def aftersale_intercepted_event(*, case: AfterSaleCase, actor: Actor, carrier: str, tracking_no: str):
    """The unsigned parcel is called back before a refund-only claim is paid. data: aftersale_id, carrier, tracking_no."""
    return _case_event(case, Kind.INTERCEPTED, actor, carrier=carrier, tracking_no=tracking_no)


def aftersale_closed_event(*, case: AfterSaleCase, actor: Actor, from_status: str, reason: str) -> None:
    """reason: why it closed. data: aftersale_id."""
    aftersale_closed_events(cases=[CaseMoved.of(case, from_status=from_status)], actor=actor, reason=reason)


def aftersale_closed_events(*, cases: Iterable[CaseMoved], actor: Actor, reason: str) -> None:
    """One or many cases closed (a sweep's batch), one row each, in one COPY; as aftersale_closed_event."""
    _cases_events(Kind.CLOSED, cases, actor, reason=reason)


def aftersale_escalated_event(*, case: AfterSaleCase, actor: Actor, from_status: str, reason: str):
    """The case goes to the platform (the buyer asked, or a flagged buyer's case timed out). reason: why. data: aftersale_id."""
    return _case_event(case, Kind.ESCALATED, actor, from_status=from_status, reason=reason)


def aftersale_ruled_event(*, case: AfterSaleCase, actor: Actor, from_status: str, compensation: str, points: int):
    """reason: the arbitrator's note. data: aftersale_id, ruling, compensation, penalty_points."""
    return _case_event(
        case, Kind.RULED, actor, from_status=from_status, reason=case.ruling_note,
        ruling=case.ruling, compensation=compensation, penalty_points=points,
    )


def aftersale_intercept_failed_event(*, case: AfterSaleCase, actor: Actor, from_status: str):
    """The intercepted parcel was signed anyway: the refund waits for a return. data: aftersale_id, return_address, return_deadline."""
    return _case_event(
        case, Kind.INTERCEPT_FAILED, actor, from_status=from_status, return_address=case.return_address,
        return_deadline=case.return_deadline.isoformat() if case.return_deadline else None,
    )


# --- reviews: on the order's timeline too, each `data` holding review_id ---


def _review_event(review, kind: str, actor: Actor, *, reason: str = "", **data):
    return order_event_append(order=review.order, kind=kind, actor=actor, reason=reason, data={"review_id": review.pk, **data})


def review_created_event(*, review, actor: Actor):
    """data: review_id, sku_id, rating, logistics_rating, service_rating, images (how many)."""
    return _review_event(
        review, ReviewKind.CREATED, actor, sku_id=review.sku_id, rating=review.rating,
        logistics_rating=review.logistics_rating, service_rating=review.service_rating, images=len(review.images),
    )


def review_followed_up_event(*, review, actor: Actor):
    """data: review_id."""
    return _review_event(review, ReviewKind.FOLLOWED_UP, actor)


def review_replied_event(*, review, actor: Actor):
    """data: review_id."""
    return _review_event(review, ReviewKind.REPLIED, actor)


def review_reported_event(*, report, actor: Actor):
    """data: review_id, report_id, report_reason (a ReportReason value), evidence."""
    return _review_event(report.review, ReviewKind.REPORTED, actor, report_id=report.pk, report_reason=report.reason, evidence=report.evidence)


def review_decided_event(*, report, actor: Actor):
    """Kept or hidden by the platform. reason: the platform's note. data: review_id, report_id."""
    kind = ReviewKind.HIDDEN if report.status == ReportStatus.HIDDEN else ReviewKind.KEPT
    return _review_event(report.review, kind, actor, reason=report.decision_note, report_id=report.pk)

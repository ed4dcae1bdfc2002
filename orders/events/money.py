"""The money kinds of the order's timeline: payments, refunds, compensation.

Each says what its `data` holds; all write through the writers of `orders.events`, and are imported from there.
"""
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from orders.constants import EventKind
from orders.events import EventRow, order_event_append, order_events_write
from orders.models import Order, OrderEvent, Payment
from shop_admin.kernel.actors import Actor


def payment_created_event(*, order: Order, actor: Actor, payment: Payment) -> OrderEvent:
    """data: payment_id, channel, amount, purpose."""
    return order_event_append(
        order=order,
        kind=EventKind.PAYMENT_CREATED,
        actor=actor,
        data={"payment_id": payment.pk, "channel": payment.channel, "amount": str(payment.amount), "purpose": payment.purpose},
    )


def payment_succeeded_event(*, order: Order, actor: Actor, payment: Payment, amount: Decimal) -> OrderEvent:
    """data: payment_id, channel_txn_id, amount (as the channel reported it)."""
    return order_event_append(
        order=order,
        kind=EventKind.PAYMENT_SUCCEEDED,
        actor=actor,
        data={"payment_id": payment.pk, "channel_txn_id": payment.channel_txn_id, "amount": str(amount)},
    )


def payment_failed_event(*, order: Order, actor: Actor, payment: Payment) -> OrderEvent:
    """reason: the failure (its label, read in the reader's language). data: payment_id, failure_reason, reason_params."""
    return order_event_append(
        order=order,
        kind=EventKind.PAYMENT_FAILED,
        actor=actor,
        reason="%(failure_reason)s",
        data={
            "payment_id": payment.pk,
            "failure_reason": payment.failure_reason,
            "reason_params": {"failure_reason": payment.failure_reason},
        },
    )


def payment_ignored_event(*, order: Order, actor: Actor, payment: Payment, reason: str) -> OrderEvent:
    """A callback that changed nothing, and why. data: payment_id."""
    return order_event_append(order=order, kind=EventKind.PAYMENT_IGNORED, actor=actor, reason=reason, data={"payment_id": payment.pk})


@dataclass(frozen=True, kw_only=True)
class RefundBooked:
    """A refund as its events tell it: a Refund row (`of`) or the values a batch booked without one."""

    refund_id: int
    order_id: int
    amount: Decimal
    channel: str
    source: str
    reason: str = ""
    channel_txn_id: str | None = None
    lines: tuple[tuple[int, int, Decimal], ...] = ()  # (line_id, quantity, amount)

    @classmethod
    def of(cls, refund, *, with_lines: bool = False) -> "RefundBooked":
        lines = tuple((rl.line_id, rl.quantity, rl.amount) for rl in refund.lines.all()) if with_lines else ()
        return cls(
            refund_id=refund.pk, order_id=refund.order_id, amount=refund.amount, channel=refund.channel, source=refund.source,
            reason=refund.reason, channel_txn_id=refund.channel_txn_id, lines=lines,
        )


def _refund_data(refund) -> dict:
    return {"refund_id": refund.pk, "amount": str(refund.amount), "channel": refund.channel, "source": refund.source}


def _booked_data(refund: RefundBooked) -> dict:
    return {"refund_id": refund.refund_id, "amount": str(refund.amount), "channel": refund.channel, "source": refund.source}


def refunds_created_events(*, refunds: Iterable[RefundBooked], actor: Actor) -> None:
    """One or many refunds created (one, or a sweep's batch), one row each, in one COPY. reason: why the money goes back.
    data: refund_id, amount, channel, source, lines [{line_id, quantity, amount}]."""
    order_events_write(
        EventRow(
            order_id=r.order_id, kind=EventKind.REFUND_CREATED, actor=actor, reason=r.reason,
            data=_booked_data(r) | {"lines": [{"line_id": pk, "quantity": q, "amount": str(part)} for pk, q, part in r.lines]},
        )
        for r in refunds
    )


def refund_succeeded_event(*, order: Order, actor: Actor, refund) -> None:
    """The money is back with the buyer. data: refund_id, amount, channel, source, channel_txn_id."""
    refunds_succeeded_events(refunds=[RefundBooked.of(refund)], actor=actor)


def refunds_succeeded_events(*, refunds: Iterable[RefundBooked], actor: Actor) -> None:
    """One or many refunds back with the buyers, one row each, in one COPY; as refund_succeeded_event."""
    order_events_write(
        EventRow(order_id=r.order_id, kind=EventKind.REFUND_SUCCEEDED, actor=actor, data=_booked_data(r) | {"channel_txn_id": r.channel_txn_id})
        for r in refunds
    )


def refund_failed_event(*, order: Order, actor: Actor, refund, channel_txn_id: str) -> OrderEvent:
    """reason: the channel's failure reason. data: refund_id, amount, channel, source, channel_txn_id, attempts, retry_at."""
    data = _refund_data(refund) | {
        "channel_txn_id": channel_txn_id,
        "attempts": refund.attempts,
        "retry_at": refund.retry_at.isoformat() if refund.retry_at else None,
    }
    return order_event_append(order=order, kind=EventKind.REFUND_FAILED, actor=actor, reason=refund.failure_reason, data=data)


def refund_retried_event(*, order: Order, actor: Actor, refund) -> OrderEvent:
    """A failed refund is sent to the channel again. data: refund_id, amount, channel, source, attempts."""
    data = _refund_data(refund) | {"attempts": refund.attempts}
    return order_event_append(order=order, kind=EventKind.REFUND_RETRIED, actor=actor, data=data)


def refund_ignored_event(*, order: Order, actor: Actor, refund, reason: str, channel_txn_id: str) -> OrderEvent:
    """A refund callback that changed nothing, and why. data: refund_id, channel_txn_id."""
    return order_event_append(
        order=order, kind=EventKind.REFUND_IGNORED, actor=actor, reason=reason, data={"refund_id": refund.pk, "channel_txn_id": channel_txn_id}
    )


def compensation_paid_event(*, order: Order, actor: Actor, amount: Decimal, reason: str, source: str) -> OrderEvent:
    """The merchant's deposit pays the buyer (a platform ruling). reason: why. data: amount, source."""
    return order_event_append(
        order=order, kind=EventKind.COMPENSATION_PAID, actor=actor, reason=reason, data={"amount": str(amount), "source": source}
    )

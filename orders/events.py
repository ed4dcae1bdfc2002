"""The audit trail of orders: one function per event kind orders owns, and the one writer every app's events use.

An app that writes to an order's timeline registers its kinds (a TextChoices) in its
`AppConfig.ready()` with `order_event_kinds_register` and writes them through functions
in its own `events.py`; the `kind` column has no choices, so a new kind needs no
migration here. The exception record's events are in `exception_events.py`, the coupon
campaigns' own trail in `coupon_events.py`.
"""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import models

from orders.constants import EventKind, OrderStatus
from orders.models import Order, OrderEvent, Payment
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.bulk import rows_copy

_labels: dict[str, object] = {}
# Kinds whose from/to are another machine's states (an after-sale case's), with that machine's choices.
_statuses: dict[str, type[models.TextChoices]] = {}


def order_event_kinds_register(choices: type[models.TextChoices], *, statuses: type[models.TextChoices] | None = None) -> None:
    """Make an app's event kinds known to the timeline, with their labels (and the states their from/to name, if not the order's)."""
    for kind, label in zip(choices.values, choices.labels, strict=True):
        if kind in _labels and _labels[kind] != label:
            raise ValueError(f"order event kind {kind!r} is registered twice")
        _labels[kind] = label
        if statuses is not None:
            _statuses[kind] = statuses


def order_event_status_label(kind: str, status: str) -> str:
    """A timeline event's from or to state in words: the order's, or the machine its kind registered."""
    choices = _statuses.get(kind, OrderStatus)
    return str(choices(status).label) if status in choices.values else status


def order_event_kind_label(kind: str) -> str:
    return str(_labels.get(kind, kind))


def order_event_kind_choices() -> list[tuple[str, str]]:
    return [(kind, str(label)) for kind, label in _labels.items()]


def _event_row(
    order: Order, kind: str, actor: Actor, *, from_status: str = "", to_status: str = "", reason: str = "", data=None
) -> OrderEvent:
    if kind not in _labels:
        raise ValueError(f"order event kind {kind!r} is not registered")
    return OrderEvent(
        order=order,
        kind=kind,
        actor_kind=actor.kind,
        actor_user=actor.user,
        actor_label=actor.label[:64],
        from_status=from_status,
        to_status=to_status,
        reason=(reason or "")[:300],
        data=data or {},
    )


def order_event_append(
    *, order: Order, kind: str, actor: Actor, from_status: str = "", to_status: str = "", reason: str = "", data=None
) -> OrderEvent:
    """The one writer of the timeline; only the events modules of the apps call it."""
    event = _event_row(order, kind, actor, from_status=from_status, to_status=to_status, reason=reason, data=data)
    event.save()
    return event


@dataclass(frozen=True, kw_only=True)
class EventRow:
    """One timeline row as an events module builds it, for `order_events_write`."""

    order_id: int
    kind: str
    actor: Actor
    from_status: str = ""
    to_status: str = ""
    reason: str = ""
    data: dict | None = None


# One object for every row without data: rows_copy encodes a JSON value once per object, not once per row.
_NO_DATA: dict = {}


def order_events_write(rows: Iterable[EventRow]) -> None:
    """Many timeline rows at once, in this order, in one COPY; only the events modules of the apps call it.

    The same rows `order_event_append` writes, without a model instance each: at thousands of
    events per batch, building and saving instances was a third of the batch's time, and quoting
    them into one INSERT's array literals most of what was left. COPY gives ids in row order.
    """
    rows = list(rows)
    for kind in {row.kind for row in rows}:
        if kind not in _labels:
            raise ValueError(f"order event kind {kind!r} is not registered")
    rows_copy(
        OrderEvent,
        (
            {
                "order_id": row.order_id, "kind": row.kind, "actor_kind": row.actor.kind,
                "actor_user_id": row.actor.user.pk if row.actor.user else None, "actor_label": row.actor.label[:64],
                "from_status": row.from_status, "to_status": row.to_status, "reason": (row.reason or "")[:300],
                "data": row.data or _NO_DATA,
            }
            for row in rows
        ),
    )


# --- the kinds orders owns; each says what its `data` holds ---


def order_submitted_event(*, order: Order, actor: Actor) -> OrderEvent:
    """data: payable."""
    return order_event_append(order=order, kind=EventKind.SUBMITTED, actor=actor, data={"payable": str(order.payable)})


def order_submitted_event_unsaved(*, order: Order, actor: Actor) -> OrderEvent:
    """The same row as `order_submitted_event`, not yet written: submission writes it in one statement with the order."""
    return _event_row(order, EventKind.SUBMITTED, actor, data={"payable": str(order.payable)})


@dataclass(frozen=True, kw_only=True)
class OrderMove:
    """One order's transition, for `orders_transition_events`. data: what the transition carried."""

    order_id: int
    from_status: str
    to_status: str
    data: dict | None = None


def order_transition_event(*, order: Order, actor: Actor, from_status: str, reason: str = "", data: dict | None = None) -> None:
    """The order moved from `from_status` to its current status. data: what the transition carried (carrier, tracking_no)."""
    orders_transition_events(
        moves=[OrderMove(order_id=order.pk, from_status=from_status, to_status=order.status, data=data)], actor=actor, reason=reason
    )


def orders_transition_events(*, moves: Iterable[OrderMove], actor: Actor, reason: str) -> None:
    """Transitions of one or many orders (a sweep's batch), one row each, in one COPY."""
    order_events_write(
        EventRow(
            order_id=m.order_id, kind=EventKind.TRANSITION, actor=actor, from_status=m.from_status, to_status=m.to_status,
            reason=reason, data=m.data,
        )
        for m in moves
    )


def orders_imported_events(orders: Iterable[tuple[int, str]], *, actor: Actor, source: str) -> None:
    """Orders (id, status) created by a CSV import, one row each, streamed at once. data: source (the file's name)."""
    common = {
        "kind": EventKind.IMPORTED,
        "actor_kind": actor.kind,
        "actor_user_id": actor.user.pk if actor.user else None,
        "actor_label": actor.label[:64],
        "data": {"source": source},
    }
    rows_copy(OrderEvent, ({**common, "order_id": order_id, "to_status": status} for order_id, status in orders))


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


def order_frozen_event(*, order: Order, actor: Actor, reason: str) -> OrderEvent:
    """The order is frozen for review (too many payment attempts). data: payment_attempts."""
    return order_event_append(
        order=order, kind=EventKind.FROZEN, actor=actor, reason=reason, data={"payment_attempts": order.payment_attempts}
    )


def stock_short_event(*, order: Order, actor: Actor, sku_codes: list[str]) -> OrderEvent:
    """Paid, but these lines' stock could not be occupied. data: sku_codes."""
    return order_event_append(order=order, kind=EventKind.STOCK_SHORT, actor=actor, data={"sku_codes": sku_codes})



def line_substituted_event(*, order: Order, actor: Actor, old: dict, new: dict, refund: Decimal) -> OrderEvent:
    """A short line now ships a similar SKU. data: old and new (sku_id, sku_code, name, unit_price), refund (price difference)."""
    return order_event_append(
        order=order,
        kind=EventKind.LINE_SUBSTITUTED,
        actor=actor,
        reason=f"{old['name']} → {new['name']}",
        data={"old": old, "new": new, "refund": str(refund)},
    )


def stock_transferred_event(*, order: Order, actor: Actor, warehouse_id: int, lines: list[dict]) -> OrderEvent:
    """Short lines now take stock from another warehouse of the shop. data: warehouse_id, lines (sku_id, quantity)."""
    return order_event_append(
        order=order, kind=EventKind.STOCK_TRANSFERRED, actor=actor, data={"warehouse_id": warehouse_id, "lines": lines}
    )


def stock_returned_event(*, order: Order, actor: Actor, reason: str, source: str, lines: list[dict]) -> OrderEvent:
    """Shipped units came back on sale. reason: why. data: source (aftersale:<id>), lines (line_id, sku_id, quantity, stock_level_id)."""
    return order_event_append(order=order, kind=EventKind.STOCK_RETURNED, actor=actor, reason=reason, data={"source": source, "lines": lines})


def order_recovered_event(*, order: Order, actor: Actor, old: Order, new: Order) -> OrderEvent:
    """Recovery (订单召回), written on both orders. data: recovered_from, recovered_to (order numbers), payable."""
    return order_event_append(
        order=order,
        kind=EventKind.RECOVERED,
        actor=actor,
        reason=f"{old.order_no} → {new.order_no}",
        data={"recovered_from": old.order_no, "recovered_to": new.order_no, "payable": str(new.payable)},
    )



def risk_approved_event(*, order: Order, actor: Actor, note: str) -> OrderEvent:
    """reason: the reviewer's note."""
    return order_event_append(order=order, kind=EventKind.RISK_APPROVED, actor=actor, reason=note)


def order_settled_event(*, order: Order, actor: Actor, settlement) -> OrderEvent:
    """data: gross, commission, net."""
    return order_event_append(
        order=order,
        kind=EventKind.SETTLED,
        actor=actor,
        data={"gross": str(settlement.gross), "commission": str(settlement.commission), "net": str(settlement.net)},
    )


def address_changed_event(*, order: Order, actor: Actor, old: dict) -> OrderEvent:
    """data: old and new address (name, phone, province, city, district, detail)."""
    return order_event_append(
        order=order, kind=EventKind.ADDRESS_CHANGED, actor=actor, data={"old": old, "new": order.address_dict()}
    )


def remark_set_event(*, order: Order, actor: Actor, old: dict) -> OrderEvent:
    """reason: the new remark. data: old (remark and flag before), flag."""
    return order_event_append(
        order=order,
        kind=EventKind.REMARK,
        actor=actor,
        reason=order.merchant_remark[:300],
        data={"old": old, "flag": order.remark_flag},
    )


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


def refund_created_event(*, order: Order, actor: Actor, refund) -> None:
    """reason: why the money goes back. data: refund_id, amount, channel, source, lines [{line_id, quantity, amount}]."""
    refunds_created_events(refunds=[RefundBooked.of(refund, with_lines=True)], actor=actor)


def refunds_created_events(*, refunds: Iterable[RefundBooked], actor: Actor) -> None:
    """One or many refunds created (a sweep's batch), one row each, in one COPY; as refund_created_event."""
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


def auto_confirm_paused_event(*, order: Order, actor: Actor, reason: str) -> OrderEvent:
    """The auto-confirm clock stopped (an after-sale case is open). data: remaining_seconds (None before signing)."""
    remaining = order.auto_confirm_remaining.total_seconds() if order.auto_confirm_remaining is not None else None
    return order_event_append(order=order, kind=EventKind.AUTO_CONFIRM_PAUSED, actor=actor, reason=reason, data={"remaining_seconds": remaining})


def auto_confirm_resumed_events(*, resumed: dict[int, datetime | None], actor: Actor, reason: str) -> None:
    """The auto-confirm clock of one or many orders runs again, one row each, in one COPY.
    resumed: order id -> its auto_confirm_at. data: auto_confirm_at (None if the parcel is not signed yet)."""
    order_events_write(
        EventRow(
            order_id=pk, kind=EventKind.AUTO_CONFIRM_RESUMED, actor=actor, reason=reason,
            data={"auto_confirm_at": at.isoformat() if at else None},
        )
        for pk, at in resumed.items()
    )


def compensation_paid_event(*, order: Order, actor: Actor, amount: Decimal, reason: str, source: str) -> OrderEvent:
    """The merchant's deposit pays the buyer (a platform ruling). reason: why. data: amount, source."""
    return order_event_append(
        order=order, kind=EventKind.COMPENSATION_PAID, actor=actor, reason=reason, data={"amount": str(amount), "source": source}
    )

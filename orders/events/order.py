"""The order's own timeline kinds: submission, transitions, imports, stock, recovery, settlement, edits, the auto-confirm clock.

Each says what its `data` holds; all write through the writers of `orders.events`, and are imported from there.
"""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from orders.constants import EventKind
from orders.events import EventRow, _event_row, order_event_append, order_events_write
from orders.models import Order, OrderEvent
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.bulk import rows_copy


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

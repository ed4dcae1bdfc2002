"""Many refunds at once, for a sweep's batch: exactly what `refund_create` does, for the common shape, in a few statements.

A sweep that approves thousands of claims cannot afford `refund_create`'s forty-odd statements
each. `refunds_create_many` takes the claims whose orders are in the common shape -- paid,
delivered or completed through a channel that answers at once (douyin_pay), nothing refunded,
settled or forfeited yet -- and books them set-wise with the very rules of `refund_create`:
line shares, caps, allocation, the ledger, the events in the same order, the whole-order close
and the release of the stock the refund covers. Rows are built as plain values with their ids
taken first (`ids_allocate`) and written with COPY. Every other claim is handed back untouched,
for the caller to run through `refund_create` one by one, so the outcome never depends on the path.
"""
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from orders.constants import LedgerKind, LineStock, OrderStatus, PaymentStatus, RefundStatus
from orders.events import RefundBooked, refunds_created_events, refunds_succeeded_events
from orders.models import LedgerEntry, Order, OrderLine, Payment, Refund, RefundLine, Settlement
from orders.services.common import orders_transition_many
from orders.services.refundable import CENT, ZERO, line_shares, refund_allocate, units_cap
from orders.services.refunds import FULL_REFUND_REASON, IMMEDIATE_CHANNELS
from orders.services.stock import stock_unoccupy_line_rows
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.bulk import ids_allocate, rows_copy

# Order states this path refunds from (a shipped parcel is intercepted first); the close checks its own sources.
BATCH_ORDER_STATUSES = (OrderStatus.PAID, OrderStatus.DELIVERED, OrderStatus.COMPLETED)


@dataclass(frozen=True)
class RefundClaim:
    """One refund of a batch: the order (one claim per order), the money, the units per order line, where it comes from."""

    order_id: int
    amount: Decimal
    lines: dict[int, int]
    source: str


@dataclass(frozen=True)
class RefundMade:
    refund_id: int
    amount: Decimal
    order_status: str  # the order's status afterwards: closed when nothing is left held


@dataclass(frozen=True)
class _Order:
    pk: int
    status: str
    shop_id: int
    paid_amount: Decimal
    received: Decimal
    payment_id: int | None
    channel: str


def _orders_in_shape(order_ids: list[int]) -> dict[int, _Order]:
    """The claimed orders in the common shape, with what their escrow received and the payment the money goes back through."""
    orders, ledger, refunds, settlements, payments = (
        m._meta.db_table for m in (Order, LedgerEntry, Refund, Settlement, Payment)
    )
    sql = (
        f"SELECT o.id, o.status, o.shop_id, o.paid_amount,"
        f" COALESCE(NULLIF((SELECT SUM(e.amount) FROM {ledger} e WHERE e.order_id = o.id AND e.kind = %s), 0), o.paid_amount),"
        f" p.id, COALESCE(p.channel, '')"
        f" FROM {orders} o LEFT JOIN LATERAL (SELECT id, channel FROM {payments} WHERE order_id = o.id AND status = %s"
        f" ORDER BY amount DESC, id DESC LIMIT 1) p ON true"
        f" WHERE o.id = ANY(%s) AND o.status = ANY(%s)"
        f" AND NOT EXISTS (SELECT 1 FROM {refunds} r WHERE r.order_id = o.id)"
        f" AND NOT EXISTS (SELECT 1 FROM {settlements} s WHERE s.order_id = o.id)"
        f" AND NOT EXISTS (SELECT 1 FROM {ledger} e WHERE e.order_id = o.id AND e.kind = %s)"
    )
    params = [LedgerKind.ESCROW_IN, PaymentStatus.SUCCEEDED, order_ids, list(BATCH_ORDER_STATUSES), LedgerKind.DEPOSIT_FORFEIT]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = [_Order(*row) for row in cursor.fetchall()]
    return {o.pk: o for o in found if o.channel in IMMEDIATE_CHANNELS}


def refunds_create_many(*, claims: list[RefundClaim], actor: Actor, reason: str) -> dict[int, RefundMade]:
    """Refund the claims in the common shape at once; returns them by order id. The others are left to `refund_create`.

    The caller holds the orders' row locks. A claim is left out, untouched, when its order is
    not in the shape, when a line is not the order's or its units are out of range, or when its
    amount is not a positive amount within what its lines can take: `refund_create` says why.
    """
    by_order = {claim.order_id: claim for claim in claims}
    if len(by_order) != len(claims):
        raise ValueError("refunds_create_many takes one claim per order")
    orders = _orders_in_shape(list(by_order)) if by_order else {}
    if not orders:
        return {}
    lines = defaultdict(list)
    for row in (
        OrderLine.objects.filter(order_id__any_of=list(orders))
        .order_by("pk")
        .values_list("order_id", "pk", "quantity", "line_total", "stock_state", "stock_level_id")
    ):
        lines[row[0]].append(row[1:])
    plans = []
    for order_id, order in orders.items():
        claim = by_order[order_id]
        order_lines = {pk: (quantity, state, level) for pk, quantity, _total, state, level in lines[order_id]}
        if not claim.lines or any(pk not in order_lines or not 1 <= q <= order_lines[pk][0] for pk, q in claim.lines.items()):
            continue
        shares = line_shares(paid_amount=order.paid_amount, totals=[(pk, total) for pk, _q, total, _s, _l in lines[order_id]])
        caps = [
            units_cap(paid=shares[pk], left=max(ZERO, shares[pk]), quantity=q, line_quantity=order_lines[pk][0])
            for pk, q in claim.lines.items()
        ]
        whole_left = max(ZERO, order.received)
        amount = claim.amount
        if amount <= 0 or amount != amount.quantize(CENT) or amount > min(sum(caps, ZERO), whole_left):
            continue
        plans.append((order, claim, refund_allocate(amount, caps), amount == whole_left, order_lines))
    if not plans:
        return {}
    with transaction.atomic():
        return _book(plans, actor, reason)


def _book(plans: list, actor: Actor, reason: str) -> dict[int, RefundMade]:
    now = timezone.now()
    reason = (reason or "")[:200]  # what the refund row keeps, and its event says
    refund_ids = ids_allocate(Refund, len(plans))
    refunds, refund_lines, ledger, booked, closed, release, made = [], [], [], [], {}, [], {}
    for refund_id, (order, claim, parts, whole, order_lines) in zip(refund_ids, plans, strict=True):
        channel, source = order.channel, claim.source[:40]
        refunds.append({
            "id": refund_id, "order_id": order.pk, "payment_id": order.payment_id, "channel": channel, "amount": claim.amount,
            "status": RefundStatus.SUCCEEDED, "channel_txn_id": None, "succeeded_at": now, "source": source,
            "reason": reason, "actor_label": actor.label[:64], "after_settlement": False, "created_at": now,
        })
        mine = [(pk, q, part) for (pk, q), part in zip(claim.lines.items(), parts, strict=True) if part > 0 or q]
        refund_lines += [{"refund_id": refund_id, "line_id": pk, "quantity": q, "amount": part} for pk, q, part in mine]
        ledger.append({"order_id": order.pk, "refund_id": refund_id, "kind": LedgerKind.REFUND_OUT, "amount": claim.amount})
        booked.append(RefundBooked(
            refund_id=refund_id, order_id=order.pk, amount=claim.amount, channel=channel, source=source, reason=reason, lines=tuple(mine)
        ))
        status = order.status
        if whole:  # nothing left held: the order closes and every occupied unit goes back on sale
            status = OrderStatus.CLOSED
            closed[order.pk] = {"refund_id": refund_id, "refund": str(claim.amount)}
            covered = order_lines
        else:  # lines whose every unit is refunded give their stock back
            covered = {pk: order_lines[pk] for pk, q in claim.lines.items() if q >= order_lines[pk][0]}
        release += [(pk, level, quantity) for pk, (quantity, state, level) in covered.items() if state == LineStock.OCCUPIED]
        made[order.pk] = RefundMade(refund_id=refund_id, amount=claim.amount, order_status=status)
    rows_copy(Refund, refunds)
    rows_copy(RefundLine, refund_lines)
    rows_copy(LedgerEntry, ledger)
    refunds_created_events(refunds=booked, actor=actor)
    for channel in sorted({r.channel for r in booked}):
        refunds_succeeded_events(refunds=[r for r in booked if r.channel == channel], actor=Actor.channel(channel or "platform"))
    if closed:
        orders_transition_many(order_ids=list(closed), name="close", actor=actor, reason=reason or FULL_REFUND_REASON, data=closed)
    stock_unoccupy_line_rows(release)
    return made

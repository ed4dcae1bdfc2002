"""What of an order can still be refunded: each line's paid share, what refunds already cover, and how an amount spreads."""
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.db.models import Sum

from orders.constants import (
    LedgerKind,
    OrderStatus,
)
from orders.models import LedgerEntry, Order, OrderLine, Refund, RefundLine

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LineRefundable:
    """One order line: its share of what was paid and what refunds already took from it."""

    line: OrderLine
    paid: Decimal
    refunded: Decimal
    refunded_quantity: int

    @property
    def left(self) -> Decimal:
        return max(ZERO, self.paid - self.refunded)

    def cap(self, quantity: int) -> Decimal:
        """At most what these units were paid, and never more than the line has left."""
        return units_cap(paid=self.paid, left=self.left, quantity=quantity, line_quantity=self.line.quantity)


def units_cap(*, paid: Decimal, left: Decimal, quantity: int, line_quantity: int) -> Decimal:
    """What `quantity` of a line's `line_quantity` units can take back: their share of `paid`, never above `left`."""
    per_units = (paid * quantity / line_quantity).quantize(CENT, rounding=ROUND_DOWN)
    return min(left, per_units if quantity < line_quantity else paid)


def order_refunds_total(*, order: Order) -> Decimal:
    """Every refund of the order, whatever its status: a pending or failed one is still owed to the buyer."""
    return Refund.objects.filter(order=order).aggregate(total=Sum("amount"))["total"] or ZERO


def order_money_received(*, order: Order) -> Decimal:
    """What the escrow received for the order and still owes to someone: payments in, less a forfeited deposit."""
    rows = dict(
        LedgerEntry.objects.filter(order=order, kind__in=[LedgerKind.ESCROW_IN, LedgerKind.DEPOSIT_FORFEIT])
        .values_list("kind")
        .annotate(total=Sum("amount"))
    )
    received = rows.get(LedgerKind.ESCROW_IN) or order.paid_amount  # orders paid outside our channels have no ledger row
    return received - (rows.get(LedgerKind.DEPOSIT_FORFEIT) or ZERO)


def order_refundable_total(*, order: Order) -> Decimal:
    """What can still be refunded for the whole order. A presale deposit waiting for its balance is not refundable."""
    held = order_money_received(order=order) - order_refunds_total(order=order)
    if order.status == OrderStatus.DEPOSIT_PAID:
        held -= order.paid_amount
    return max(ZERO, held)


def _line_shares(order: Order, lines: list[OrderLine]) -> dict[int, Decimal]:
    return line_shares(paid_amount=order.paid_amount, totals=[(ln.pk, ln.line_total) for ln in lines])


def line_shares(*, paid_amount: Decimal, totals: list[tuple[int, Decimal]]) -> dict[int, Decimal]:
    """The order's paid amount spread over its lines (id, line total) by their totals (discounts and freight pro rata), to the cent."""
    total = sum((line_total for _pk, line_total in totals), ZERO)
    if not totals or total <= 0:
        return {pk: ZERO for pk, _total in totals}
    shares, given = {}, ZERO
    for pk, line_total in totals[:-1]:
        shares[pk] = (paid_amount * line_total / total).quantize(CENT, rounding=ROUND_DOWN)
        given += shares[pk]
    shares[totals[-1][0]] = paid_amount - given  # the last line takes the rounding so the shares add up
    return shares


def order_lines_refundable(*, order: Order) -> list[LineRefundable]:
    """Each line of the order with what was paid for it and what refunds already cover, in line order."""
    lines = list(order.lines.order_by("pk"))
    shares = _line_shares(order, lines)
    taken = {
        row["line_id"]: row
        for row in RefundLine.objects.filter(line__order=order)
        .values("line_id")
        .annotate(amount=Sum("amount"), quantity=Sum("quantity"))
    }
    return [
        LineRefundable(
            line=line,
            paid=shares[line.pk],
            refunded=(taken.get(line.pk) or {}).get("amount") or ZERO,
            refunded_quantity=(taken.get(line.pk) or {}).get("quantity") or 0,
        )
        for line in lines
    ]


def refund_allocate(amount: Decimal, caps: list[Decimal]) -> list[Decimal]:
    """Spread `amount` over the caps pro rata, to the cent, no part above its cap (amount <= sum of caps)."""
    total = sum(caps, ZERO)
    if total <= 0:
        return [ZERO for _cap in caps]
    amount = min(amount, total)
    parts = [(amount * cap / total).quantize(CENT, rounding=ROUND_DOWN) for cap in caps]
    left = amount - sum(parts, ZERO)
    for i, cap in enumerate(caps):  # the few cents rounding left go where there is room
        room = cap - parts[i]
        give = min(room, left)
        parts[i] += give
        left -= give
        if left <= 0:
            break
    return parts

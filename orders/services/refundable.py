"""What of an order can still be refunded: each line's paid share, what refunds already cover, and how an amount spreads."""
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from orders.constants import OrderStatus
from orders.models import Order, OrderLine, Refund, RefundLine
from orders.sql import order_refund_money_rows
from shop_admin.kernel.errors import Invalid

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LineRefundable:
    """One order line: its share of what was paid and what refunds already took from it."""

    line: "RefundableLine"
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


@dataclass(frozen=True)
class RefundableLine:
    """The columns of an order line a refund reads (plain values: a sweep's batch builds no model instances)."""

    pk: int
    quantity: int
    line_total: Decimal
    stock_state: str
    stock_level_id: int | None
    sku_id: int
    sku_code: str
    product_name: str


@dataclass(frozen=True)
class OrderRefundable:
    """One order as a refund sees it: what the escrow received, what refunds took, each line, the payment to go back through."""

    order_id: int
    status: str
    shop_id: int
    paid_amount: Decimal
    received: Decimal  # payments in, less a forfeited deposit
    refunded: Decimal  # every refund, whatever its status: a pending or failed one is still owed
    settled: bool
    payment_id: int | None
    channel: str
    lines: tuple[LineRefundable, ...]

    @property
    def left(self) -> Decimal:
        """What can still be refunded for the whole order. A presale deposit waiting for its balance is not refundable."""
        held = self.received - self.refunded
        if self.status == OrderStatus.DEPOSIT_PAID:
            held -= self.paid_amount
        return max(ZERO, held)


def orders_refundable(*, order_ids: list[int]) -> dict[int, OrderRefundable]:
    """The orders (by id) with what each line was paid and what refunds already cover, lines in id order: the one read
    every refund cap comes from, for one order or a sweep's batch, in three statements."""
    lines: dict[int, list[tuple]] = {pk: [] for pk in order_ids}
    for order_id, *row in (
        OrderLine.objects.filter(order_id__any_of=list(order_ids))
        .order_by("pk")
        .values_list("order_id", "pk", "quantity", "line_total", "stock_state", "stock_level_id", "sku_id", "sku_code", "product_name")
    ):
        lines[order_id].append(RefundableLine(*row))
    taken = {
        line_id: (amount, quantity)
        for line_id, amount, quantity in RefundLine.objects.filter(line__order_id__any_of=list(order_ids))
        .values_list("line_id")
        .annotate(amount=Sum("amount"), quantity=Sum("quantity"))
        .values_list("line_id", "amount", "quantity")
    }
    found = {}
    for pk, status, shop_id, paid_amount, received, refunded, settled, payment_id, channel in order_refund_money_rows(order_ids=order_ids):
        shares = line_shares(paid_amount=paid_amount, totals=[(ln.pk, ln.line_total) for ln in lines[pk]])
        found[pk] = OrderRefundable(
            order_id=pk, status=status, shop_id=shop_id, paid_amount=paid_amount, received=received, refunded=refunded,
            settled=settled, payment_id=payment_id, channel=channel,
            lines=tuple(
                LineRefundable(
                    line=ln, paid=shares[ln.pk], refunded=taken.get(ln.pk, (ZERO, 0))[0], refunded_quantity=taken.get(ln.pk, (ZERO, 0))[1]
                )
                for ln in lines[pk]
            ),
        )
    return found


def order_refundable_total(*, order: Order) -> Decimal:
    """What can still be refunded for the whole order (as saved)."""
    return orders_refundable(order_ids=[order.pk])[order.pk].left


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
    """Each line of the order (as saved) with what was paid for it and what refunds already cover, in line order."""
    return list(orders_refundable(order_ids=[order.pk])[order.pk].lines)


def amount_clean(amount) -> Decimal:
    """A money amount a person or a caller gave: positive, at most two decimals; refused (422 naming `amount`) otherwise."""
    try:
        value = Decimal(str(amount))
    except (ArithmeticError, ValueError):
        value = None
    if value is None or not value.is_finite() or value <= 0 or value != value.quantize(CENT):
        raise Invalid(
            _("退款金额须为大于0的金额，最多两位小数"), code="invalid_input", details={"fields": {"amount": _("须为大于0的金额")}}
        )
    return value


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

"""Refund creation, the one implementation: a single refund (`refund_create`) is a batch of one through `refunds_create_many`.

The set-wise path is the rule because it was measured far faster per claim than the per-refund
service it replaced (tests/perf/README.md, "Refund creation"), and one refund is a claim of a batch. A batch is read in a fixed number of statements (`orders_refundable`), checked
claim by claim against the same caps, and written with COPY: the refund rows and their lines, the
ledger at once for a channel that answers at once (douyin_pay), the events through the per-kind
functions of `orders.events`, the close of an order nothing is held for any more (through
`orders_transition_many`, which checks the transition's own sources) and the release of the stock
the refund covers. Other channels stay pending until their signed callback (`refunds.py`).
"""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from orders.constants import LedgerKind, LineStock, OrderStatus, PaymentChannel, RefundStatus
from orders.events import RefundBooked, refunds_created_events, refunds_succeeded_events
from orders.models import LedgerEntry, Order, Refund, RefundLine
from orders.services.common import orders_transition_many
from orders.services.refundable import (
    CENT,
    ZERO,
    LineRefundable,
    OrderRefundable,
    amount_clean,
    orders_refundable,
    refund_allocate,
)
from orders.services.stock import stock_unoccupy_line_rows
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.bulk import ids_allocate, rows_copy
from shop_admin.kernel.errors import Conflict, DomainError, Invalid, NotFound

# Why an order closed when a refund gave back all it held and the caller gave no reason: a message id, read in the reader's language.
FULL_REFUND_REASON = gettext_noop("全额退款")
# Channels that answer a refund at once, in the same transaction (no callback follows).
IMMEDIATE_CHANNELS = {PaymentChannel.DOUYIN_PAY, ""}


@dataclass(frozen=True)
class RefundClaim:
    """One refund of a batch: the order (one claim per order), the money, the units per order line (None: the whole
    order, each line taking its units once it takes all its money), where it comes from."""

    order_id: int
    amount: Decimal
    lines: dict[int, int] | None
    source: str


@dataclass(frozen=True)
class RefundMade:
    refund_id: int
    amount: Decimal
    order_status: str  # the order's status afterwards: closed when nothing is left held


@dataclass(frozen=True)
class _Plan:
    order: OrderRefundable
    claim: RefundClaim
    amount: Decimal
    lines: tuple[tuple[int, int, Decimal], ...]  # (line id, units, amount)
    whole: bool
    release: tuple[tuple[int, int | None, int], ...]  # occupied lines given back: (line id, stock row id, units)


def refund_ledger_rows(*, order_id: int, refund_id: int, amount: Decimal, after_settlement: bool) -> list[dict]:
    """The ledger rows of a refund that succeeded: the money out of escrow, and, when the merchant was already paid,
    the settlement and the platform's commission given back."""
    rows = []
    if after_settlement:
        commission = (amount * settings.PLATFORM_COMMISSION_RATE).quantize(CENT, rounding=ROUND_HALF_UP)
        rows += [
            {"order_id": order_id, "refund_id": refund_id, "kind": LedgerKind.SETTLEMENT_REVERSAL, "amount": amount - commission},
            {"order_id": order_id, "refund_id": refund_id, "kind": LedgerKind.COMMISSION_REVERSAL, "amount": commission},
        ]
    rows.append({"order_id": order_id, "refund_id": refund_id, "kind": LedgerKind.REFUND_OUT, "amount": amount})
    return rows


def refund_create(
    *, order: Order, amount: Decimal, actor: Actor, reason: str, source: str = "", lines: dict[int, int] | None = None
) -> Refund:
    """Send `amount` back to the buyer by the payment's channel; `lines` maps order line id -> units it covers.

    A batch of one through `refunds_create_many`: refused (422, naming the lines) above what was
    paid for those lines less what refunds already took.
    """
    claim = RefundClaim(order_id=order.pk, amount=amount, lines=lines, source=source)
    made = refunds_create_many(claims=[claim], actor=actor, reason=reason)
    return Refund.objects.get(pk=made[order.pk].refund_id)


def refunds_create_many(
    *, claims: list[RefundClaim], actor: Actor, reason: str, refused: dict[int, DomainError] | None = None
) -> dict[int, RefundMade]:
    """Refund the claims (one per order) in one transaction, the orders locked in id order; returns them by order id.

    A claim the rules refuse (an unpaid order, a line not the order's or units out of range, an
    amount above what its lines can take) raises its DomainError; with `refused` given, it is put
    there instead, by order id, and the others are booked.
    """
    by_order = {claim.order_id: claim for claim in claims}
    if len(by_order) != len(claims):
        raise ValueError("refunds_create_many takes one claim per order")
    with transaction.atomic():
        locked = list(Order.objects.select_for_update().filter(pk__any_of=list(by_order)).order_by("pk").values_list("pk", flat=True))
        state = orders_refundable(order_ids=locked)
        plans = []
        for claim in claims:
            try:
                plans.append(_plan(claim, state.get(claim.order_id)))
            except DomainError as exc:
                if refused is None:
                    raise
                refused[claim.order_id] = exc
        return _book(plans, actor, reason) if plans else {}


def _plan(claim: RefundClaim, order: OrderRefundable | None) -> _Plan:
    """The one refund rule: what a claim may take, and how it spreads over the lines."""
    if order is None:
        raise NotFound(_("订单不存在"), code="order_not_found")
    amount = amount_clean(claim.amount)
    if order.status == OrderStatus.PENDING_PAYMENT and order.received <= 0:
        raise Conflict(_("订单尚未支付，无需退款"), code="invalid_transition", details={"status": order.status})
    by_line = {lr.line.pk: lr for lr in order.lines}
    if claim.lines:
        covered = _covered_lines(by_line, claim.lines)
        caps = [lr.cap(quantity) for lr, quantity in covered]
        limit = min(sum(caps, ZERO), order.left)
    else:
        covered = [(lr, 0) for lr in order.lines if lr.left > 0]
        caps = [lr.left for lr, _q in covered]
        limit = order.left
    if amount > limit:
        raise Invalid(
            _("退款金额%(amount)s元超过可退金额%(limit)s元") % {"amount": amount, "limit": limit},
            code="refund_exceeds_paid",
            details={
                "fields": {"amount": _("最多可退%(limit)s元") % {"limit": limit}},
                "lines": [
                    {
                        "line_id": lr.line.pk,
                        "sku_id": lr.line.sku_id,
                        "sku_code": lr.line.sku_code,
                        "product_name": lr.line.product_name,
                        "refundable": f"{cap:.2f}",
                    }
                    for (lr, _q), cap in zip(covered, caps, strict=True)
                ],
            },
        )
    taken = []
    for (lr, quantity), part in zip(covered, refund_allocate(amount, caps), strict=True):
        if not claim.lines:  # a whole-order refund takes the units of a line once it takes all its money
            quantity = lr.line.quantity - lr.refunded_quantity if part >= lr.left else 0
        if part > 0 or quantity:
            taken.append((lr.line.pk, quantity, part))
    whole = amount == order.left
    # Nothing left held: every occupied unit goes back on sale; otherwise the lines whose every unit is now refunded.
    done = {pk for pk, quantity, _part in taken if quantity and quantity + by_line[pk].refunded_quantity >= by_line[pk].line.quantity}
    release = tuple(
        (lr.line.pk, lr.line.stock_level_id, lr.line.quantity)
        for lr in order.lines
        if lr.line.stock_state == LineStock.OCCUPIED and (whole or lr.line.pk in done)
    )
    return _Plan(order=order, claim=claim, amount=amount, lines=tuple(taken), whole=whole, release=release)


def _covered_lines(by_line: dict[int, LineRefundable], lines: dict[int, int]) -> list[tuple[LineRefundable, int]]:
    covered, errors = [], {}
    for line_id, quantity in lines.items():
        lr = by_line.get(line_id)
        if lr is None:
            errors[f"lines.{line_id}"] = _("不是该订单的商品")
        elif not isinstance(quantity, int) or not 1 <= quantity <= lr.line.quantity:
            errors[f"lines.{line_id}.quantity"] = _("%(name)s 数量须在1到%(n)d之间") % {"name": lr.line.product_name, "n": lr.line.quantity}
        else:
            covered.append((lr, quantity))
    if errors:
        raise Invalid(_("退款商品有误"), code="invalid_input", details={"fields": errors})
    return covered


def _book(plans: list[_Plan], actor: Actor, reason: str) -> dict[int, RefundMade]:
    """Write the planned refunds: rows, lines, ledger, events, closes and releases, each kind in one statement."""
    now = timezone.now()
    kept_reason = (reason or "")[:200]  # what the refund row keeps, and its event says
    refunds, refund_lines, ledger, booked, closed, release, made = [], [], [], [], {}, [], {}
    for refund_id, plan in zip(ids_allocate(Refund, len(plans)), plans, strict=True):
        order, at_once = plan.order, plan.order.channel in IMMEDIATE_CHANNELS
        source = plan.claim.source[:40]
        refunds.append({
            "id": refund_id, "order_id": order.order_id, "payment_id": order.payment_id, "channel": order.channel, "amount": plan.amount,
            "status": RefundStatus.SUCCEEDED if at_once else RefundStatus.PENDING, "channel_txn_id": None,
            "succeeded_at": now if at_once else None, "source": source, "reason": kept_reason, "actor_label": actor.label[:64],
            "after_settlement": order.settled, "created_at": now,
        })
        refund_lines += [{"refund_id": refund_id, "line_id": pk, "quantity": q, "amount": part} for pk, q, part in plan.lines]
        if at_once:
            ledger += refund_ledger_rows(order_id=order.order_id, refund_id=refund_id, amount=plan.amount, after_settlement=order.settled)
        booked.append((at_once, RefundBooked(
            refund_id=refund_id, order_id=order.order_id, amount=plan.amount, channel=order.channel, source=source,
            reason=kept_reason, lines=plan.lines,
        )))
        if plan.whole:
            closed[order.order_id] = {"refund_id": refund_id, "refund": str(plan.amount)}
        release += plan.release
        made[order.order_id] = RefundMade(refund_id=refund_id, amount=plan.amount, order_status=order.status)
    rows_copy(Refund, refunds)
    rows_copy(RefundLine, refund_lines)
    rows_copy(LedgerEntry, ledger)
    refunds_created_events(refunds=[r for _at_once, r in booked], actor=actor)
    for channel in sorted({r.channel for at_once, r in booked if at_once}):
        refunds_succeeded_events(refunds=[r for at_once, r in booked if at_once and r.channel == channel], actor=Actor.channel(channel or "platform"))
    if closed:
        for move in orders_transition_many(order_ids=list(closed), name="close", actor=actor, reason=reason or FULL_REFUND_REASON, data=closed):
            made[move.order_id] = RefundMade(refund_id=made[move.order_id].refund_id, amount=made[move.order_id].amount, order_status=move.to_status)
    stock_unoccupy_line_rows(release)
    return made

"""Refunds: money back to the buyer by the payment's own route, never more than was paid, booked in the ledger once.

douyin_pay refunds at once; the other channels stay pending until their signed refund
callback, which is applied once however often it arrives. A failed refund is a state
of its own, retried by the `refund_retry` deadline and, after the last attempt, left
failed with a payment anomaly for a person to look at. A refund that gives back all
that is held closes the order (交易关闭) and releases the stock it still occupies.
"""
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_fsm import can_proceed

from orders.constants import (
    ExceptionKind,
    LedgerKind,
    LineStock,
    OrderStatus,
    PaymentChannel,
    PaymentStatus,
    RefundStatus,
)
from orders.events import (
    compensation_paid_event,
    refund_created_event,
    refund_failed_event,
    refund_ignored_event,
    refund_retried_event,
    refund_succeeded_event,
)
from orders.models import LedgerEntry, Order, Payment, Refund, RefundLine, Settlement
from orders.services.common import order_lock, order_transition
from orders.services.exceptions import exception_open
from orders.services.refundable import (
    CENT,
    ZERO,
    LineRefundable,
    order_lines_refundable,
    order_money_received,
    order_refundable_total,
    refund_allocate,
)
from orders.services.stock import stock_unoccupy_lines
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.errors import Conflict, Invalid, NotFound

# Why an order closed when a refund gave back all it held and the caller gave no reason: a message id, read in the reader's language.
FULL_REFUND_REASON = gettext_noop("全额退款")
# Channels that answer a refund at once, in the same transaction (no callback follows).
IMMEDIATE_CHANNELS = {PaymentChannel.DOUYIN_PAY, ""}




def _clean_amount(amount) -> Decimal:
    try:
        value = Decimal(str(amount))
    except (ArithmeticError, ValueError):
        value = None
    if value is None or not value.is_finite() or value <= 0 or value != value.quantize(CENT):
        raise Invalid(
            _("退款金额须为大于0的金额，最多两位小数"), code="invalid_input", details={"fields": {"amount": _("须为大于0的金额")}}
        )
    return value


def _refund_payment(order: Order) -> Payment | None:
    """The payment the money goes back through: the order's largest successful one (the full or balance payment)."""
    return order.payments.filter(status=PaymentStatus.SUCCEEDED).order_by("-amount", "-pk").first()


# --- create ---


def refund_create(
    *,
    order: Order,
    amount: Decimal,
    actor: Actor,
    reason: str,
    source: str = "",
    lines: dict[int, int] | None = None,
) -> Refund:
    """Send `amount` back to the buyer by the payment's channel; `lines` maps order line id -> units it covers.

    Refused (422, naming the lines) above what was paid for those lines less what refunds
    already took. In the same transaction: the refund row, its lines, the ledger (at once
    for douyin_pay), its audit event, and, when nothing is left held, the order's close
    and the release of the stock it still occupies.
    """
    amount = _clean_amount(amount)
    with transaction.atomic():
        order = order_lock(order.pk)
        if order.status == OrderStatus.PENDING_PAYMENT and order_money_received(order=order) <= 0:
            raise Conflict(_("订单尚未支付，无需退款"), code="invalid_transition", details={"status": order.status})
        whole_left = order_refundable_total(order=order)
        by_line = {lr.line.pk: lr for lr in order_lines_refundable(order=order)}
        if lines:
            covered = _covered_lines(by_line, lines)
            caps = [lr.cap(quantity) for lr, quantity in covered]
            limit = min(sum(caps, ZERO), whole_left)
        else:
            covered = [(lr, 0) for lr in by_line.values() if lr.left > 0]
            caps = [lr.left for lr, _q in covered]
            limit = whole_left
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
        payment = _refund_payment(order)
        refund = Refund.objects.create(
            order=order,
            payment=payment,
            channel=payment.channel if payment else "",
            amount=amount,
            source=source[:40],
            reason=(reason or "")[:200],
            actor_label=actor.label[:64],
            after_settlement=Settlement.objects.filter(order=order).exists(),
        )
        parts = refund_allocate(amount, caps)
        refund_lines = []
        for (lr, quantity), part in zip(covered, parts, strict=True):
            if not lines:  # a whole-order refund takes the units of a line once it takes all its money
                quantity = lr.line.quantity - lr.refunded_quantity if part >= lr.left else 0
            if part > 0 or quantity:
                refund_lines.append(RefundLine(refund=refund, line=lr.line, quantity=quantity, amount=part))
        RefundLine.objects.bulk_create(refund_lines)
        refund_created_event(order=order, actor=actor, refund=refund)
        if refund.channel in IMMEDIATE_CHANNELS:
            _refund_succeed(order, refund, Actor.channel(refund.channel or "platform"), channel_txn_id=None, at=timezone.now())
        if amount == whole_left:
            _order_fully_refunded(order, refund, actor, reason)
        else:
            # Lines whose every unit is refunded before shipping give their stock back.
            done = {rl.line_id for rl in refund_lines if rl.quantity and rl.quantity + by_line[rl.line_id].refunded_quantity >= by_line[rl.line_id].line.quantity}
            stock_unoccupy_lines([lr.line for lr in by_line.values() if lr.line.pk in done and lr.line.stock_state == LineStock.OCCUPIED])
    return refund


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


def _order_fully_refunded(order: Order, refund: Refund, actor: Actor, reason: str) -> None:
    """Nothing is held any more: the order closes and what it still occupies goes back on sale."""
    if can_proceed(order.close):
        order_transition(order, "close", actor, reason=reason or FULL_REFUND_REASON, data={"refund_id": refund.pk, "refund": str(refund.amount)})
    stock_unoccupy_lines(list(order.lines.all()))


# --- the money moves ---


def _refund_succeed(order: Order, refund: Refund, actor: Actor, *, channel_txn_id: str | None, at: datetime) -> None:
    refund.status = RefundStatus.SUCCEEDED
    refund.channel_txn_id = channel_txn_id
    refund.succeeded_at = at
    refund.retry_at = None
    refund.failure_reason = ""
    refund.save()
    entries = []
    if refund.after_settlement:
        # The merchant was already paid: the refund comes back out of the settlement, less the platform's share.
        commission = (refund.amount * settings.PLATFORM_COMMISSION_RATE).quantize(CENT, rounding=ROUND_HALF_UP)
        entries += [
            LedgerEntry(order=order, refund=refund, kind=LedgerKind.SETTLEMENT_REVERSAL, amount=refund.amount - commission),
            LedgerEntry(order=order, refund=refund, kind=LedgerKind.COMMISSION_REVERSAL, amount=commission),
        ]
    entries.append(LedgerEntry(order=order, refund=refund, kind=LedgerKind.REFUND_OUT, amount=refund.amount))
    LedgerEntry.objects.bulk_create(entries)
    refund_succeeded_event(order=order, actor=actor, refund=refund)


def refund_callback_apply(
    *, refund_id: int, channel_txn_id: str, status: str, failure_reason: str = "", at: datetime | None = None
) -> str:
    """Apply one signed refund callback; returns applied / duplicate / ignored. Replays change nothing."""
    refund = Refund.objects.filter(pk=refund_id).only("order_id").first()
    if refund is None:
        raise NotFound(_("退款单不存在"), code="refund_not_found")
    now = timezone.now()
    with transaction.atomic():
        order = order_lock(refund.order_id)  # order first, then refund: the order refund_create locks in
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        actor = Actor.channel(refund.channel or "platform")
        # Keyed by transaction id AND outcome: a channel may retry under the id of a failed try, and that success
        # must not be dropped; once an id has succeeded, nothing later about it changes anything.
        seen_failed = status != RefundStatus.SUCCEEDED and channel_txn_id in refund.failed_txn_ids
        if channel_txn_id == refund.channel_txn_id or seen_failed:
            return "duplicate"
        if Refund.objects.filter(channel_txn_id=channel_txn_id).exclude(pk=refund.pk).exists():
            raise Conflict(_("该渠道流水号属于另一笔退款"), code="channel_txn_conflict", details={"fields": {"channel_txn_id": channel_txn_id}})
        if refund.status == RefundStatus.SUCCEEDED:
            refund_ignored_event(
                order=order, actor=actor, refund=refund, reason=gettext_noop("退款已成功，忽略后到的回调"), channel_txn_id=channel_txn_id
            )
            return "ignored"
        if status == RefundStatus.SUCCEEDED:
            # A success wins even over an earlier failure: the money has moved.
            _refund_succeed(order, refund, actor, channel_txn_id=channel_txn_id, at=at or now)
            return "applied"
        _refund_fail(order, refund, actor, channel_txn_id=channel_txn_id, reason=failure_reason, now=now)
        return "applied"


def _refund_fail(order: Order, refund: Refund, actor: Actor, *, channel_txn_id: str, reason: str, now: datetime) -> None:
    refund.status = RefundStatus.FAILED
    refund.failed_txn_ids = [*refund.failed_txn_ids, channel_txn_id]
    refund.failure_reason = (reason or _("渠道退款失败"))[:200]
    refund.failed_at = now
    if refund.attempts < settings.REFUND_MAX_ATTEMPTS:
        refund.retry_at = now + settings.REFUND_RETRY_AFTER
        deadline_schedule(name="refund_retry", pk=refund.pk, at=refund.retry_at)
    else:
        refund.retry_at = None
    refund.save()
    refund_failed_event(order=order, actor=actor, refund=refund, channel_txn_id=channel_txn_id)
    if refund.retry_at is None:
        exception_open(
            order=order,
            kind=ExceptionKind.PAYMENT_ANOMALY,
            actor=actor,
            detail=gettext_noop("退款%(amount)s元失败%(n)d次（%(reason)s），需人工处理"),
            detail_params={"amount": str(refund.amount), "n": refund.attempts, "reason": refund.failure_reason},
            data={"refund_id": refund.pk, "amount": str(refund.amount)},
        )


def refund_retry_due(now: datetime) -> QuerySet:
    """Failed refunds whose next try is due."""
    return Refund.objects.filter(status=RefundStatus.FAILED, retry_at__lte=now)


def refund_retry(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline: send failed refunds to their channel again; douyin_pay answers at once, the others by callback."""
    queryset = refund_retry_due(now).order_by("retry_at")
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    applied = 0
    for refund_pk, order_pk in list(queryset.values_list("pk", "order_id")[: settings.SWEEP_BATCH_SIZE]):
        with transaction.atomic():
            try:
                order = Order.objects.select_for_update(skip_locked=True).get(pk=order_pk)
            except Order.DoesNotExist:  # another process holds it; the next sweep comes back
                continue
            refund = Refund.objects.select_for_update().get(pk=refund_pk)
            if refund.status != RefundStatus.FAILED or refund.retry_at is None or refund.retry_at > now:
                continue
            refund.status = RefundStatus.PENDING
            refund.attempts += 1
            refund.retry_at = None
            refund.save()
            refund_retried_event(order=order, actor=Actor.system("refund_retry"), refund=refund)
            if refund.channel in IMMEDIATE_CHANNELS:
                _refund_succeed(order, refund, Actor.channel(refund.channel or "platform"), channel_txn_id=None, at=now)
            applied += 1
    return applied


def deposit_compensation_pay(*, order: Order, amount: Decimal, actor: Actor, reason: str, source: str = "") -> LedgerEntry:
    """Compensation for the buyer out of the merchant's deposit (a platform ruling): booked beside the order's money."""
    amount = _clean_amount(amount)
    with transaction.atomic():
        order = order_lock(order.pk)
        entry = LedgerEntry.objects.create(order=order, kind=LedgerKind.DEPOSIT_COMPENSATION, amount=amount)
        compensation_paid_event(order=order, actor=actor, amount=amount, reason=reason, source=source)
    return entry


# --- reads ---


def refund_counts(*, shop_id: int) -> dict[str, int]:
    """Refunds of a shop by status: what the merchant and the reconciliation count."""
    row = Refund.objects.filter(order__shop_id=shop_id).aggregate(
        **{status: Count("pk", filter=Q(status=status)) for status in RefundStatus.values}
    )
    return {status: row[status] or 0 for status in RefundStatus.values}


def refunds_failed_count(*, shop_id: int, now: datetime, cap: int = 1000) -> int:
    """Refunds of the shop the channel failed and that are not yet through: a dashboard tile."""
    return Refund.objects.filter(order__shop_id=shop_id, status=RefundStatus.FAILED).values("pk")[: cap + 1].count()

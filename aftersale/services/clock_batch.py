"""The reply-timeout sweep in batches: one transaction and a fixed number of statements per batch of due cases.

The per-case path (`clock._reply_timeout`, what an RQ wake-up for one case runs) goes through
the services a clerk uses: about 45 statements and a commit per claim. The sweep after an
outage can face tens of thousands of due claims, so here a batch is locked at once (orders
first, then cases, SKIP LOCKED: a case someone is answering is left to the next sweep),
re-checked under the lock, and the common shape -- a refund-only claim on an order paid
through an immediate channel, nothing refunded or settled yet, one due case per order and
per buyer, a buyer well under the daily refund limit -- is applied set-wise with the very
rules of `refund_create` (line shares, caps, allocation, whole-order close, stock release,
auto-confirm resume) and the same events in the same order. Every other due case of the
batch (returns, reships, flagged buyers, shipped orders to intercept, earlier refunds, a
settlement, a channel that answers by callback) runs the per-case path inside the same
transaction, each in its own savepoint, so the outcome never depends on which path ran.
"""
import logging
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersale.constants import OPEN_STATUSES, AfterSaleEventKind, AfterSaleStatus, AfterSaleType
from aftersale.models import AfterSaleCase, AfterSaleLine
from orders.constants import EventKind, LedgerKind, OrderStatus, PaymentStatus, RefundStatus
from orders.events import order_events_append_many
from orders.models import Buyer, LedgerEntry, Order, OrderLine, Payment, Refund, RefundLine, Settlement
from orders.selectors import order_counts_changed
from orders.services.refunds import IMMEDIATE_CHANNELS, ZERO, LineRefundable, _allocate, _line_shares
from orders.services.stock import stock_unoccupy_lines
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.errors import DomainError

logger = logging.getLogger(__name__)
S = AfterSaleStatus
DUE_STATUSES = [S.REQUESTED, S.NEGOTIATING]
# Order states a refund-only claim is paid from without an interception (shipped: the parcel is called back first).
FAST_ORDER_STATUSES = {OrderStatus.PAID, OrderStatus.DELIVERED, OrderStatus.COMPLETED}


def aftersale_reply_timeout_batch(*, now: datetime, apply_one) -> int:
    """One batch of the sweep: lock, re-check, apply the common shape set-wise and the rest one by one."""
    due = list(
        AfterSaleCase.objects.filter(status__in=DUE_STATUSES, reply_deadline__lte=now)
        .order_by("reply_deadline", "pk")
        .values_list("pk", "order_id")[: settings.SWEEP_BATCH_SIZE]
    )
    if not due:
        return 0
    with transaction.atomic():
        # Orders first, as every after-sale action locks them, in id order; then the cases.
        orders = {
            o.pk: o
            for o in Order.objects.select_for_update(skip_locked=True).filter(pk__in={order_id for _pk, order_id in due}).order_by("pk")
        }
        cases = AfterSaleCase.objects.select_for_update(skip_locked=True).filter(
            pk__in=[pk for pk, order_id in due if order_id in orders]
        ).order_by("pk")
        locked = {c.pk: c for c in cases if c.status in DUE_STATUSES and c.reply_deadline <= now}
        batch = [locked[pk] for pk, _order_id in due if pk in locked]  # back in deadline order
        for case in batch:
            case.order = orders[case.order_id]
        fast, slow = _split(batch, now)
        applied = _apply_fast(fast, now) if fast else 0
        for case in slow:
            try:
                with transaction.atomic():
                    apply_one(case, now)
                applied += 1
            except DomainError as exc:  # one case's refusal must not stop the others; it stays due and visible
                logger.warning("after-sale case %s: %s", case.pk, exc.message)
    return applied


# --- which cases take the set-wise path ---


class _Plan:
    """What the set-wise path needs of one case, read in a few queries for the whole batch."""

    def __init__(self, case: AfterSaleCase, lines: list[OrderLine], covered: list[tuple[LineRefundable, int]], amount: Decimal,
                 whole_left: Decimal, payment: Payment | None, still_open: bool):
        self.case, self.lines, self.covered, self.amount = case, lines, covered, amount
        self.whole_left, self.payment, self.still_open = whole_left, payment, still_open


def _split(batch: list[AfterSaleCase], now: datetime) -> tuple[list[_Plan], list[AfterSaleCase]]:
    order_ids = [c.order_id for c in batch]
    per_order = defaultdict(int)
    per_buyer = defaultdict(int)
    for c in batch:
        per_order[c.order_id] += 1
        per_buyer[c.buyer_id] += 1
    candidates = [
        c for c in batch
        if c.type == AfterSaleType.REFUND_ONLY and c.order.status in FAST_ORDER_STATUSES and c.amount
        and per_order[c.order_id] == 1 and per_buyer[c.buyer_id] == 1
    ]
    if not candidates:
        return [], batch
    order_ids = [c.order_id for c in candidates]
    buyer_ids = [c.buyer_id for c in candidates]
    flagged = set(Buyer.objects.filter(pk__in=buyer_ids, is_flagged=True).values_list("pk", flat=True))
    since = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    refunds_today = dict(
        Refund.objects.filter(order__buyer_id__in=buyer_ids, created_at__gte=since)
        .exclude(status=RefundStatus.FAILED)
        .values_list("order__buyer_id")
        .annotate(n=Count("pk"))
    )
    refunded_orders = set(Refund.objects.filter(order_id__in=order_ids).values_list("order_id", flat=True))
    settled = set(Settlement.objects.filter(order_id__in=order_ids).values_list("order_id", flat=True))
    money = defaultdict(dict)
    for order_id, kind, total in (
        LedgerEntry.objects.filter(order_id__in=order_ids, kind__in=[LedgerKind.ESCROW_IN, LedgerKind.DEPOSIT_FORFEIT])
        .values_list("order_id", "kind").annotate(total=Sum("amount"))
    ):
        money[order_id][kind] = total
    payments = {}
    for p in Payment.objects.filter(order_id__in=order_ids, status=PaymentStatus.SUCCEEDED).order_by("order_id", "-amount", "-pk"):
        payments.setdefault(p.order_id, p)
    lines = defaultdict(list)
    for line in OrderLine.objects.filter(order_id__in=order_ids).order_by("pk"):
        lines[line.order_id].append(line)
    case_lines = defaultdict(dict)
    for al in AfterSaleLine.objects.filter(case__in=candidates):
        case_lines[al.case_id][al.line_id] = al.quantity
    open_elsewhere = set(
        AfterSaleCase.objects.filter(order_id__in=order_ids, status__in=OPEN_STATUSES)
        .exclude(pk__in=[c.pk for c in batch]).values_list("order_id", flat=True)
    )
    fast, fast_ids = [], set()
    for c in candidates:
        order = c.order
        payment = payments.get(c.order_id)
        if (
            c.buyer_id in flagged
            or refunds_today.get(c.buyer_id, 0) + 1 > settings.BUYER_DAILY_REFUND_LIMIT  # this refund would flag the buyer
            or c.order_id in refunded_orders
            or c.order_id in settled
            or LedgerKind.DEPOSIT_FORFEIT in money[c.order_id]
            or (payment.channel if payment else "") not in IMMEDIATE_CHANNELS
        ):
            continue
        order_lines = lines[c.order_id]
        shares = _line_shares(order, order_lines)
        by_line = {ln.pk: LineRefundable(line=ln, paid=shares[ln.pk], refunded=ZERO, refunded_quantity=0) for ln in order_lines}
        wanted = case_lines[c.pk]
        if not wanted or any(lid not in by_line or not 1 <= q <= by_line[lid].line.quantity for lid, q in wanted.items()):
            continue  # the per-case path refuses or pays nothing: let it say so
        covered = [(by_line[lid], q) for lid, q in wanted.items()]
        # What refund_create would allow: escrow received (or what was paid), nothing refunded yet.
        whole_left = max(ZERO, money[c.order_id].get(LedgerKind.ESCROW_IN) or order.paid_amount)
        amount = min(c.amount, min(sum((lr.cap(q) for lr, q in covered), ZERO), whole_left))
        if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            continue
        fast.append(_Plan(c, order_lines, covered, amount, whole_left, payment, c.order_id in open_elsewhere))
        fast_ids.add(c.pk)
    return fast, [c for c in batch if c.pk not in fast_ids]


# --- the set-wise path ---


def _apply_fast(plans: list[_Plan], now: datetime) -> int:
    actor = Actor.system("aftersale_reply_timeout")
    reason = _("商家超时未处理，系统自动同意")
    succeeded_at = timezone.now()
    refunds = Refund.objects.bulk_create([
        Refund(
            order_id=p.case.order_id, payment_id=p.payment.pk if p.payment else None, channel=p.payment.channel if p.payment else "", amount=p.amount,
            source=f"aftersale:{p.case.pk}"[:40], reason=reason[:200], actor_label=actor.label[:64], after_settlement=False,
            status=RefundStatus.SUCCEEDED, channel_txn_id=None, succeeded_at=succeeded_at, retry_at=None, failure_reason="",
        )
        for p in plans
    ])
    # Rows built by ids: assigning model instances to foreign keys cost a third of a millisecond a row.
    refund_lines, ledger, events = [], [], []
    closed, release, resumed, resume_schedule = [], [], [], []
    for p, refund in zip(plans, refunds, strict=True):
        case, order = p.case, p.case.order
        parts = _allocate(p.amount, [lr.cap(q) for lr, q in p.covered])
        mine = [RefundLine(refund_id=refund.pk, line_id=lr.line.pk, quantity=q, amount=part) for (lr, q), part in zip(p.covered, parts, strict=True)]
        refund_lines += mine
        ledger.append(LedgerEntry(order_id=order.pk, refund_id=refund.pk, kind=LedgerKind.REFUND_OUT, amount=refund.amount))
        data = {"refund_id": refund.pk, "amount": str(refund.amount), "channel": refund.channel, "source": refund.source}
        events.append((order.pk, EventKind.REFUND_CREATED, actor, "", "", refund.reason, {
            **data, "lines": [{"line_id": rl.line_id, "quantity": rl.quantity, "amount": str(rl.amount)} for rl in mine]}))
        events.append((order.pk, EventKind.REFUND_SUCCEEDED, Actor.channel(refund.channel or "platform"), "", "", "",
                       {**data, "channel_txn_id": None}))
        status = order.status  # the order's status after the refund (the FSM field itself is not assigned to)
        if p.amount == p.whole_left:
            status = OrderStatus.CLOSED  # every fast-path status is a source of Order.close
            closed.append(order.pk)
            events.append((order.pk, EventKind.TRANSITION, actor, order.status, status, reason,
                           {"refund_id": refund.pk, "refund": str(refund.amount)}))
            release += p.lines
        else:
            release += [lr.line for lr, q in p.covered if q >= lr.line.quantity]
        if not p.still_open and order.auto_confirm_paused_at:
            order.auto_confirm_paused_at = None
            if order.auto_confirm_remaining is not None and status == OrderStatus.DELIVERED:
                order.auto_confirm_at = timezone.now() + order.auto_confirm_remaining
                order.auto_confirm_remaining = None
                resume_schedule.append(order)
            order.updated_at = timezone.now()
            resumed.append(order)
            at = order.auto_confirm_at.isoformat() if order.auto_confirm_at else None
            events.append((order.pk, EventKind.AUTO_CONFIRM_RESUMED, actor, "", "", _("售后结束，恢复自动确认收货"), {"auto_confirm_at": at}))
        case_data = {"aftersale_id": case.pk}
        events.append((order.pk, AfterSaleEventKind.REFUNDED, actor, case.status, S.REFUNDED, reason,
                       {**case_data, "refund_id": refund.pk, "amount": str(refund.amount), "deductions": case.deductions}))
        events.append((order.pk, AfterSaleEventKind.AUTO_APPROVED, actor, case.status, S.REFUNDED, "",
                       {**case_data, "type": case.type, "to_status": S.REFUNDED}))
    RefundLine.objects.bulk_create(refund_lines)
    LedgerEntry.objects.bulk_create(ledger)
    order_events_append_many(events)
    if closed:
        Order.objects.filter(pk__in=closed).update(status=OrderStatus.CLOSED, updated_at=timezone.now())
        order_counts_changed(shop_ids={p.case.shop_id for p in plans})
    stock_unoccupy_lines(release)
    if resumed:
        Order.objects.bulk_update(resumed, ["auto_confirm_paused_at", "auto_confirm_remaining", "auto_confirm_at", "updated_at"])
    for order in resume_schedule:
        deadline_schedule(name="order_auto_confirm", pk=order.pk, at=order.auto_confirm_at)
    # One UPDATE joined to the (case, refund) pairs: a CASE of 500 branches took half a second to compile.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AfterSaleCase._meta.db_table} AS c SET status = %s, refund_id = v.refund_id, closed_at = %s, due_at = NULL,"
            " updated_at = %s FROM unnest(%s::bigint[], %s::bigint[]) AS v(case_id, refund_id) WHERE c.id = v.case_id",
            [S.REFUNDED, now, timezone.now(), [p.case.pk for p in plans], [r.pk for r in refunds]],
        )
    return len(plans)

"""The after-sale sweeps in batches: one transaction and a fixed number of statements per batch of due cases.

The per-case path (`clock._reply_timeout`, what an RQ wake-up for one case runs) goes through
the services a clerk uses: about 45 statements and a commit per claim. The sweep after an
outage can face tens of thousands of due claims, so here a batch is locked at once (orders
first, then cases, SKIP LOCKED: a case someone is answering is left to the next sweep),
re-checked under the lock, and the common shape -- a refund-only claim on an order paid,
delivered or completed, one due case per order and per buyer, a buyer well under the daily
refund limit and not flagged -- is refunded through `refunds_create_many` (the one refund
path, which `refund_create` runs as a batch of one), then the cases, the auto-confirm resume and the
events are written set-wise too, in the order the per-case path writes them. Every other due
case of the batch (returns, reships, flagged buyers, shipped orders to intercept, a claim above
what its lines have left, which the per-case path caps) runs the per-case path inside the
same transaction, each in its own savepoint, so the outcome never depends on which path ran.
The rows are read as plain values: building model instances was most of a batch's Python time.
The return timeout (an agreed return not shipped in time closes the case) goes the same way:
set-wise for a case that is its order's only due one, one by one otherwise; the inspection
timeout locks its batch at once and applies each case in a savepoint.
"""
import logging
from collections import Counter
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from aftersale.constants import OPEN_STATUSES, AfterSaleStatus, AfterSaleType
from aftersale.events import CaseMoved, aftersale_auto_approved_events, aftersale_closed_events, aftersale_refunded_events
from aftersale.models import AfterSaleCase, AfterSaleLine
from aftersale.services.common import case_lines_follow
from aftersale.sql import cases_end_rows
from orders.constants import OrderStatus, RefundStatus
from orders.models import Buyer, Order, Refund
from orders.services.lifecycle import orders_auto_confirm_resume_many
from orders.services.refunds_create import RefundClaim, refunds_create_many
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.deadlines import deadline_failure_record
from shop_admin.kernel.errors import DomainError

logger = logging.getLogger(__name__)
S = AfterSaleStatus
DUE_STATUSES = [S.REQUESTED, S.NEGOTIATING]
# Why the clock approved or closed a case: message ids, read in the reader's language; the per-case path writes the same.
REPLY_TIMEOUT_REASON = gettext_noop("商家超时未处理，系统自动同意")
RETURN_TIMEOUT_REASON = gettext_noop("买家超时未寄回退货，售后关闭")
# Order states a refund-only claim is paid from at once (a shipped parcel is intercepted first: the per-case path).
REFUND_AT_ONCE_STATUSES = (OrderStatus.PAID, OrderStatus.DELIVERED, OrderStatus.COMPLETED)
# (pk, order_id, buyer_id, type, status, amount): what the set-wise path reads of a locked case.
CASE_COLUMNS = ("pk", "order_id", "buyer_id", "type", "status", "amount")


def aftersale_due(*, statuses: list[str], deadline: str, now: datetime) -> QuerySet:
    """Cases in `statuses` whose `deadline` has passed: what each clock kind locks and what the sweep walks."""
    return AfterSaleCase.objects.filter(status__in=statuses, **{f"{deadline}__lte": now})


def buyers_flagged(*, buyer_ids: list[int]) -> set[int]:
    """The buyers marked for abuse: the clock never approves their claims (the platform decides), whichever path runs."""
    return set(Buyer.objects.filter(pk__any_of=list(buyer_ids), is_flagged=True).values_list("pk", flat=True))


def _lock_due(*, statuses: list[str], deadline: str, now: datetime, ids: list[int] | None) -> tuple[dict[int, str], list[tuple]]:
    """A batch of due cases (of `ids`, when given) locked (orders first, as every after-sale action locks them, in id order;
    then the cases; SKIP LOCKED) and re-checked under the lock: the orders' statuses and the cases' CASE_COLUMNS rows, in
    deadline order."""
    due = aftersale_due(statuses=statuses, deadline=deadline, now=now)
    if ids is not None:
        due = due.filter(pk__any_of=list(ids))
    due = list(due.order_by(deadline, "pk").values_list("pk", "order_id")[: settings.SWEEP_BATCH_SIZE])
    if not due:
        return {}, []
    order_status = dict(
        Order.objects.select_for_update(skip_locked=True)
        .filter(pk__any_of={order_id for _pk, order_id in due})
        .order_by("pk")
        .values_list("pk", "status")
    )
    locked = {
        row[0]: row
        for row in AfterSaleCase.objects.select_for_update(skip_locked=True)
        .filter(pk__any_of=list(pk for pk, order_id in due if order_id in order_status), status__in=statuses, **{f"{deadline}__lte": now})
        .order_by("pk")
        .values_list(*CASE_COLUMNS)
    }
    return order_status, [locked[pk] for pk, _order_id in due if pk in locked]


def _apply_each(case_ids: list[int], now: datetime, apply_one, kind: str) -> int:
    """The per-case path for the locked cases the set-wise one left, each in its own savepoint of the batch's transaction."""
    if not case_ids:
        return 0
    cases = AfterSaleCase.objects.in_bulk(case_ids)
    orders = Order.objects.in_bulk({case.order_id for case in cases.values()})
    applied = 0
    for pk in case_ids:
        case = cases[pk]
        case.order = orders[case.order_id]
        try:
            with transaction.atomic():
                apply_one(case, now)
            applied += 1
        except DomainError as exc:  # one case's refusal must not stop the others; it stays due, and counted until seen
            logger.warning("after-sale case %s: %s", case.pk, exc.message)
            deadline_failure_record(kind=kind, row_id=case.pk, shop_id=case.shop_id, error=exc)
    return applied


def aftersale_due_batch(*, statuses: list[str], deadline: str, now: datetime, ids: list[int] | None, apply_one, kind: str) -> int:
    """One batch of a sweep with no set-wise shape (the inspection timeout): locked at once, applied one by one."""
    with transaction.atomic():
        _order_status, batch = _lock_due(statuses=statuses, deadline=deadline, now=now, ids=ids)
        return _apply_each([row[0] for row in batch], now, apply_one, kind)


def aftersale_reply_timeout_batch(*, now: datetime, ids: list[int] | None, apply_one) -> int:
    """One batch of the sweep: lock, re-check, apply the common shape set-wise and the rest one by one."""
    with transaction.atomic():
        order_status, batch = _lock_due(statuses=DUE_STATUSES, deadline="reply_deadline", now=now, ids=ids)
        done = _apply_fast(_candidates(batch, order_status), order_status, now)
        rest = [row[0] for row in batch if row[0] not in done]
        return len(done) + _apply_each(rest, now, apply_one, "aftersale_reply_timeout")


def aftersale_return_timeout_batch(*, now: datetime, ids: list[int] | None, apply_one) -> int:
    """One batch of the return sweep: an agreed return not shipped in time closes the case, set-wise when it is its order's
    only due case (the per-case path then writes the same rows); otherwise one by one."""
    with transaction.atomic():
        _order_status, batch = _lock_due(statuses=[S.AWAITING_RETURN], deadline="return_deadline", now=now, ids=ids)
        per_order = Counter(row[1] for row in batch)
        alone = [row for row in batch if per_order[row[1]] == 1]
        if alone:
            actor = Actor.system("aftersale_return_timeout")
            _cases_end(alone, S.CLOSED, actor, now)
            aftersale_closed_events(
                cases=[
                    CaseMoved(case_id=case_id, order_id=order_id, type=case_type, from_status=status, to_status=S.CLOSED)
                    for case_id, order_id, _buyer, case_type, status, _amount in alone
                ],
                actor=actor,
                reason=RETURN_TIMEOUT_REASON,
            )
        done = {row[0] for row in alone}
        return len(done) + _apply_each([row[0] for row in batch if row[0] not in done], now, apply_one, "aftersale_return_timeout")


def _cases_end(rows: list[tuple], status: str, actor: Actor, now: datetime, refunds: dict[int, int] | None = None) -> None:
    """`case_end` for many cases at once: their new status (and refund), no deadline; their orders' auto-confirm runs again
    once no case of theirs is open (no other case of these orders may be in `rows`)."""
    case_ids, order_ids = [row[0] for row in rows], [row[1] for row in rows]
    cases_end_rows(case_ids=case_ids, refund_ids=[(refunds or {}).get(pk) for pk in case_ids], status=status, now=now)
    case_lines_follow(case_ids=case_ids, status=status)
    open_elsewhere = set(
        AfterSaleCase.objects.filter(order_id__any_of=list(order_ids), status__in=OPEN_STATUSES)
        .exclude(pk__any_of=list(case_ids))
        .values_list("order_id", flat=True)
    )
    # The clock runs again from the real time, as `order_auto_confirm_resume` runs it, whatever moment the sweep replays.
    orders_auto_confirm_resume_many(
        order_ids=[pk for pk in order_ids if pk not in open_elsewhere], actor=actor, reason=gettext_noop("售后结束，恢复自动确认收货"),
        now=timezone.now(),
    )


def _candidates(batch: list[tuple], order_status: dict[int, str]) -> list[tuple]:
    """The due cases of the common shape as far as after-sale can tell; the refund service checks the money side."""
    per_order = Counter(row[1] for row in batch)
    per_buyer = Counter(row[2] for row in batch)
    rows = [
        row for row in batch
        if row[3] == AfterSaleType.REFUND_ONLY and order_status[row[1]] in REFUND_AT_ONCE_STATUSES and row[5]
        and per_order[row[1]] == 1 and per_buyer[row[2]] == 1
    ]
    if not rows:
        return []
    buyer_ids = [row[2] for row in rows]
    flagged = buyers_flagged(buyer_ids=buyer_ids)
    since = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    refunds_today = dict(
        Refund.objects.filter(order__buyer_id__any_of=list(buyer_ids), created_at__gte=since)
        .exclude(status=RefundStatus.FAILED)
        .values_list("order__buyer_id")
        .annotate(n=Count("pk"))
    )
    return [
        row for row in rows
        # A flagged buyer goes to the platform; a refund that would flag the buyer is left to the per-case path that flags.
        if row[2] not in flagged and refunds_today.get(row[2], 0) + 1 <= settings.BUYER_DAILY_REFUND_LIMIT
    ]


def _apply_fast(rows: list[tuple], order_status: dict[int, str], now: datetime) -> set[int]:
    """Refund the candidates the refund service takes at once, then end their cases; returns the case ids done."""
    if not rows:
        return set()
    actor = Actor.system("aftersale_reply_timeout")
    reason = REPLY_TIMEOUT_REASON
    covered: dict[int, dict[int, int]] = {row[0]: {} for row in rows}
    for case_id, line_id, quantity in AfterSaleLine.objects.filter(case_id__any_of=list(covered)).values_list("case_id", "line_id", "quantity"):
        covered[case_id][line_id] = quantity
    made = refunds_create_many(
        claims=[RefundClaim(order_id=row[1], amount=row[5], lines=covered[row[0]], source=f"aftersale:{row[0]}") for row in rows],
        actor=actor,
        reason=reason,
        refused={},  # a refused claim is left to the per-case path, which caps it or records why
    )
    done = [row for row in rows if row[1] in made]
    if not done:
        return set()
    _cases_end(done, S.REFUNDED, actor, now, refunds={row[0]: made[row[1]].refund_id for row in done})
    moved = [
        CaseMoved(
            case_id=case_id, order_id=order_id, type=case_type, from_status=status, to_status=S.REFUNDED,
            refund_id=made[order_id].refund_id, refund_amount=made[order_id].amount,
        )
        for case_id, order_id, _buyer, case_type, status, _amount in done
    ]
    aftersale_refunded_events(cases=moved, actor=actor, reason=reason)
    aftersale_auto_approved_events(cases=moved, actor=actor)
    return {row[0] for row in done}

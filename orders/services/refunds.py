"""Refunds: money back to the buyer by the payment's own route, never more than was paid, booked in the ledger once.

douyin_pay refunds at once; the other channels stay pending until their signed refund
callback, which is applied once however often it arrives. A failed refund is a state
of its own, retried by the `refund_retry` deadline and, after the last attempt, left
failed with a payment anomaly for a person to look at. A refund that gives back all
that is held closes the order (交易关闭) and releases the stock it still occupies.
"""
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from orders.constants import ExceptionKind, LedgerKind, RefundStatus
from orders.events import (
    compensation_paid_event,
    refund_failed_event,
    refund_ignored_event,
    refund_retried_event,
    refund_succeeded_event,
)
from orders.models import LedgerEntry, Order, Refund
from orders.services.common import order_lock
from orders.services.exceptions import exception_open
from orders.services.refundable import amount_clean
from orders.services.refunds_create import (  # noqa: F401  refund_create is imported from here by its callers
    IMMEDIATE_CHANNELS,
    refund_create,
    refund_ledger_rows,
)
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.bulk import rows_copy
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.errors import Conflict, NotFound

# --- the money moves ---


def _refund_succeed(order: Order, refund: Refund, actor: Actor, *, channel_txn_id: str | None, at: datetime) -> None:
    refund.status = RefundStatus.SUCCEEDED
    refund.channel_txn_id = channel_txn_id
    refund.succeeded_at = at
    refund.retry_at = None
    refund.failure_reason = ""
    refund.save()
    rows_copy(
        LedgerEntry,
        refund_ledger_rows(order_id=order.pk, refund_id=refund.pk, amount=refund.amount, after_settlement=refund.after_settlement),
    )
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
    amount = amount_clean(amount)
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

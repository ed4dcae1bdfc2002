"""Daily reconciliation (对账): payments, refunds and settlements of one shop-time day against the orders they belong to.

Everything is summed by the database, one query per check, so a day of a million-order
shop costs a few scans of the day's ledger rather than a loop over orders. A mismatch is
a fact to look at, not an error of the run: the run records every one of them.
"""
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import DecimalField, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.constants import LedgerKind, OrderStatus, PaymentStatus, RefundStatus
from orders.models import LedgerEntry, Order, Payment, ReconciliationRun, Refund, Settlement

ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=12, decimal_places=2))


@dataclass(frozen=True)
class Mismatch:
    code: str
    order_no: str
    shop_id: int
    message: str
    expected: str = ""
    actual: str = ""

    def line(self) -> str:
        money = f" (expected {self.expected}, found {self.actual})" if self.expected or self.actual else ""
        return f"{self.code}\t{self.order_no}\t{self.message}{money}"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The shop-time day as an aware [start, end) range."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _sum(kind: str):
    return Coalesce(Sum("ledger__amount", filter=Q(ledger__kind=kind)), ZERO)


def _payments(start: datetime, end: datetime) -> tuple[list[Mismatch], int]:
    """Every success the channel reported that day is booked into escrow once, at its amount; every escrow entry has its success."""
    found = []
    booked = LedgerEntry.objects.filter(kind=LedgerKind.ESCROW_IN, channel_txn_id=OuterRef("channel_txn_id"))
    payments = Payment.objects.filter(status=PaymentStatus.SUCCEEDED, settled_at__gte=start, settled_at__lt=end)
    checked = payments.count()
    rows = (
        payments.annotate(booked_amount=Subquery(booked.values("amount")[:1]))
        .filter(Q(booked_amount__isnull=True) | ~Q(booked_amount=F("amount")))
        .values_list("order__order_no", "order__shop_id", "pk", "amount", "booked_amount")
    )
    for order_no, shop_id, payment_id, amount, booked_amount in rows.iterator():
        if booked_amount is None:
            found.append(Mismatch("payment_not_booked", order_no, shop_id, _("支付单%(id)s成功但未入监管账户") % {"id": payment_id}, str(amount), "0.00"))
        else:
            found.append(
                Mismatch("payment_amount_mismatch", order_no, shop_id, _("支付单%(id)s到账金额与支付单不符") % {"id": payment_id}, str(amount), str(booked_amount))
            )
    succeeded = Payment.objects.filter(pk=OuterRef("payment_id"), status=PaymentStatus.SUCCEEDED)
    orphans = (
        LedgerEntry.objects.filter(kind=LedgerKind.ESCROW_IN, created_at__gte=start, created_at__lt=end)
        .filter(~Exists(succeeded))
        .values_list("order__order_no", "order__shop_id", "channel_txn_id", "amount")
    )
    for order_no, shop_id, txn, amount in orphans.iterator():
        found.append(Mismatch("escrow_without_payment", order_no, shop_id, _("入账%(txn)s没有对应的成功支付") % {"txn": txn}, "0.00", str(amount)))
    return found, checked


def _refund_sum(*, status: str | None = None, after_settlement: bool | None = None):
    refunds = Refund.objects.filter(order_id=OuterRef("pk"))
    if status:
        refunds = refunds.filter(status=status)
    if after_settlement is not None:
        refunds = refunds.filter(after_settlement=after_settlement)
    total = refunds.values("order_id").annotate(total=Sum("amount")).values("total")
    return Coalesce(Subquery(total, output_field=DecimalField(max_digits=12, decimal_places=2)), ZERO)


def _orders(start: datetime, end: datetime) -> tuple[list[Mismatch], int]:
    """Each order with money moving that day: what the ledger holds against the order, its refunds and its settlement."""
    found = []
    moved = LedgerEntry.objects.filter(order_id=OuterRef("pk"), created_at__gte=start, created_at__lt=end)
    refunded = Refund.objects.filter(order_id=OuterRef("pk"), created_at__gte=start, created_at__lt=end)
    orders = (
        Order.objects.filter(Q(Exists(moved)) | Q(Exists(refunded)))
        .annotate(
            escrow_in=_sum(LedgerKind.ESCROW_IN),
            refund_out=_sum(LedgerKind.REFUND_OUT),
            settled=_sum(LedgerKind.SETTLEMENT),
            commission=_sum(LedgerKind.COMMISSION),
            forfeit=_sum(LedgerKind.DEPOSIT_FORFEIT),
            reversed=Coalesce(
                Sum("ledger__amount", filter=Q(ledger__kind__in=[LedgerKind.SETTLEMENT_REVERSAL, LedgerKind.COMMISSION_REVERSAL])), ZERO
            ),
        )
        .annotate(
            refunds_all=_refund_sum(),
            refunds_ok=_refund_sum(status=RefundStatus.SUCCEEDED),
            refunds_before_settlement=_refund_sum(after_settlement=False),
            refunds_after_settlement_ok=_refund_sum(status=RefundStatus.SUCCEEDED, after_settlement=True),
        )
        .values_list(
            "order_no", "shop_id", "status", "paid_amount", "escrow_in", "refund_out", "settled", "commission", "forfeit",
            "reversed", "refunds_all", "refunds_ok", "refunds_before_settlement", "refunds_after_settlement_ok",
            "settlement__gross", "settlement__commission", "settlement__net",
        )
    )
    checked = 0
    for row in orders.iterator(chunk_size=2000):
        checked += 1
        (order_no, shop_id, status, paid, escrow_in, refund_out, settled, commission, forfeit, reversed_, refunds_all, refunds_ok,
         refunds_before, refunds_after_ok, gross, s_commission, net) = row

        def add(code: str, message: str, expected, actual) -> None:
            found.append(Mismatch(code, order_no, shop_id, message, f"{expected:.2f}", f"{actual:.2f}"))

        received = escrow_in - forfeit
        if refund_out != refunds_ok:
            add("refund_ledger_mismatch", _("退款成功金额与退款流水不符"), refunds_ok, refund_out)
        if refunds_all > received:
            add("refund_exceeds_paid", _("退款超过入账"), received, refunds_all)
        if reversed_ != refunds_after_ok:
            add("settlement_reversal_mismatch", _("结算后退款与结算退回流水不符"), refunds_after_ok, reversed_)
        if status == OrderStatus.CANCELLED:
            # A cancelled order keeps nothing: a forfeited deposit went to the merchant, anything else back to the buyer.
            if received != refunds_all:
                add("cancelled_order_holds_money", _("已取消订单仍有款项未退回"), received, refunds_all)
            continue
        if escrow_in != paid:
            add("paid_amount_mismatch", _("订单实付与入账不符"), paid, escrow_in)
        if status == OrderStatus.CLOSED and refunds_all != received:
            add("closed_order_not_fully_refunded", _("已关闭订单未全额退款"), received, refunds_all)
        if status == OrderStatus.COMPLETED:
            if gross is None:
                add("completed_without_settlement", _("已完成订单没有结算单"), paid - refunds_before, Decimal("0.00"))
                continue
            if gross != paid - refunds_before:
                add("settlement_gross_mismatch", _("结算总额与实付减退款不符"), paid - refunds_before, gross)
            if settled != net or commission != s_commission or net + s_commission != gross:
                add("settlement_ledger_mismatch", _("结算单与结算流水不符"), net, settled)
    completed = Order.objects.filter(status=OrderStatus.COMPLETED, completed_at__gte=start, completed_at__lt=end).filter(
        ~Exists(Settlement.objects.filter(order_id=OuterRef("pk")))
    ).filter(~Exists(moved))
    for order_no, shop_id, paid in completed.values_list("order_no", "shop_id", "paid_amount").iterator():
        found.append(Mismatch("completed_without_settlement", order_no, shop_id, _("已完成订单没有结算单"), f"{paid:.2f}", "0.00"))
    return found, checked


def _refunds(start: datetime, end: datetime) -> list[Mismatch]:
    """Refunds still owed: failed ones (a state of their own, retried) and ones the channel has not confirmed in time."""
    found = []
    late = end - settings.REFUND_CONFIRM_WITHIN
    rows = (
        Refund.objects.filter(created_at__lt=end)
        .filter(Q(status=RefundStatus.FAILED) | Q(status=RefundStatus.PENDING, created_at__lt=late))
        .values_list("order__order_no", "order__shop_id", "pk", "status", "amount", "failure_reason")
    )
    for order_no, shop_id, refund_id, status, amount, reason in rows.iterator():
        if status == RefundStatus.FAILED:
            message = _("退款单%(id)s退款失败：%(reason)s") % {"id": refund_id, "reason": reason or "—"}
            found.append(Mismatch("refund_failed", order_no, shop_id, message, f"{amount:.2f}", "0.00"))
        else:
            message = _("退款单%(id)s超过%(days)d天渠道仍未确认") % {"id": refund_id, "days": settings.REFUND_CONFIRM_WITHIN.days}
            found.append(Mismatch("refund_overdue", order_no, shop_id, message, f"{amount:.2f}", "0.00"))
    return found


def reconcile_day(*, day: date) -> ReconciliationRun:
    """Reconcile one shop-time day and record the result (a re-run replaces the day's record)."""
    start, end = day_bounds(day)
    payment_mismatches, payments = _payments(start, end)
    order_mismatches, orders = _orders(start, end)
    mismatches = payment_mismatches + order_mismatches + _refunds(start, end)
    with transaction.atomic():
        run, _created = ReconciliationRun.objects.update_or_create(
            day=day,
            defaults={
                "ran_at": timezone.now(),
                "checked_orders": orders,
                "checked_payments": payments,
                "mismatches": [asdict(m) for m in mismatches],
            },
        )
    run.found = mismatches
    return run


def reconcile_yesterday_job() -> int:
    """The scheduled daily run (shop_admin/cron.py): yesterday in shop time; returns how many mismatches."""
    run = reconcile_day(day=timezone.localdate() - timedelta(days=1))
    return len(run.mismatches)

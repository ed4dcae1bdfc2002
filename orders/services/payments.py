"""Payments: create an attempt, apply the channel's signed callback exactly once, whatever order it arrives in."""
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from orders.constants import (
    ExceptionKind,
    LedgerKind,
    LineStock,
    OrderKind,
    OrderStatus,
    PaymentFailure,
    PaymentPurpose,
    PaymentStatus,
)
from orders.events import (
    order_frozen_event,
    payment_created_event,
    payment_failed_event,
    payment_ignored_event,
    payment_succeeded_event,
    stock_short_event,
)
from orders.models import LedgerEntry, Order, Payment
from orders.services.common import order_lock, order_transition
from orders.services.exceptions import exception_open
from orders.services.stock import (
    stock_occupy_lines,
    stock_release_lines,
    stock_relock_lines,
)
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.deadlines import deadline_schedule
from shop_admin.kernel.errors import Conflict, NotFound
from shop_admin.kernel.shoprules import shop_rule
from shop_admin.kernel.text import join_list


def _purpose_and_amount(order: Order) -> tuple[str, Decimal]:
    if order.status == OrderStatus.PENDING_PAYMENT:
        if order.kind == OrderKind.PRESALE and order.deposit_amount:
            return PaymentPurpose.DEPOSIT, order.deposit_amount
        return PaymentPurpose.FULL, order.payable
    if order.status == OrderStatus.DEPOSIT_PAID:
        return PaymentPurpose.BALANCE, order.payable - order.paid_amount
    raise Conflict(
        _("订单状态为「%(status)s」，不需要支付") % {"status": order.get_status_display()},
        code="invalid_transition",
        details={"status": order.status},
    )


def payment_create(*, order: Order, actor: Actor, channel: str) -> Payment:
    """Start a payment attempt. The 4th attempt freezes the order for review instead."""
    frozen = False
    with transaction.atomic():
        order = order_lock(order.pk)
        purpose, amount = _purpose_and_amount(order)
        if order.is_frozen:
            raise Conflict(_("订单已冻结待风控审核，暂不能支付"), code="order_frozen")
        now = timezone.now()
        if order.status == OrderStatus.PENDING_PAYMENT and order.pay_deadline and order.pay_deadline <= now:
            raise Conflict(_("已超过支付时限，订单将自动取消"), code="pay_window_closed")
        if order.status == OrderStatus.DEPOSIT_PAID and order.balance_deadline and order.balance_deadline <= now:
            raise Conflict(_("已超过尾款支付时限"), code="pay_window_closed")
        order.payment_attempts += 1
        if order.payment_attempts > settings.PAYMENT_MAX_ATTEMPTS:
            order.is_frozen = True
            order.save(update_fields=["payment_attempts", "is_frozen", "updated_at"])
            # A payment anomaly (the exception centre's kind for it); the freeze is the review the rule asks for.
            exception_open(
                order=order,
                kind=ExceptionKind.PAYMENT_ANOMALY,
                actor=actor,
                detail=gettext_noop("支付尝试超过%(n)d次，订单冻结待审核"),
                detail_params={"n": settings.PAYMENT_MAX_ATTEMPTS},
                data={"reason": "too_many_attempts", "attempts": order.payment_attempts},
            )
            order_frozen_event(order=order, actor=actor, reason=gettext_noop("支付尝试次数过多"))
            frozen = True
        else:
            order.save(update_fields=["payment_attempts", "updated_at"])
            # A failed attempt gave the stock back; a retry takes it again if there still is some.
            short = stock_relock_lines(list(order.lines.all()), province=order.province)
            if short:
                raise Conflict(
                    _("库存不足：%(names)s") % {"names": join_list(ln.product_name for ln in short)},
                    code="out_of_stock",
                    details={"lines": [{"sku_id": ln.sku_id, "sku_code": ln.sku_code} for ln in short]},
                )
            payment = Payment.objects.create(order=order, channel=channel, purpose=purpose, amount=amount)
            payment_created_event(order=order, actor=actor, payment=payment)
    if frozen:  # raised after commit: the freeze itself must stay
        raise Conflict(_("支付尝试次数过多，订单已冻结待风控审核"), code="order_frozen")
    return payment


def _apply_success(order: Order, payment: Payment, actor: Actor, now: datetime) -> str:
    """Money arrived. Move the order if it is waiting for exactly this payment; otherwise flag it, never drop it."""
    expected = {
        (OrderStatus.PENDING_PAYMENT, PaymentPurpose.FULL): "pay",
        (OrderStatus.PENDING_PAYMENT, PaymentPurpose.DEPOSIT): "pay_deposit",
        (OrderStatus.DEPOSIT_PAID, PaymentPurpose.BALANCE): "pay_balance",
    }
    transition = expected.get((order.status, payment.purpose))
    if transition is None:
        exception_open(
            order=order,
            kind=ExceptionKind.PAYMENT_ANOMALY,
            actor=actor,
            detail=gettext_noop("订单状态为「%(status)s」时收到支付成功（%(amount)s元），需退款或恢复订单"),
            detail_params={"status": order.status, "amount": str(payment.amount)},
            data={"payment_id": payment.pk, "amount": str(payment.amount)},
        )
        return "flagged"
    order.paid_amount += payment.amount
    order.paid_at = now
    if transition in ("pay", "pay_balance"):
        if order.kind == OrderKind.FRESH:
            window = settings.FRESH_SHIP_DEADLINE
        elif order.kind == OrderKind.PRESALE:
            days = order.lines.first().product_snapshot.get("presale_ship_days") or settings.PRESALE_DEFAULT_SHIP_DAYS
            window = timedelta(days=days)
        else:
            window = shop_rule(order.shop_id, "ship_promise")
        order.ship_deadline = now + window
        if order.payable >= settings.PAYMENT_RISK_REVIEW_AMOUNT:
            order.needs_risk_review = True
    order_transition(order, transition, actor, data={"payment_id": payment.pk})
    if order.ship_deadline and transition in ("pay", "pay_balance"):
        deadline_schedule(name="order_ship_timeout", pk=order.pk, at=order.ship_deadline)
    if transition == "pay_deposit" and order.balance_deadline:
        deadline_schedule(name="presale_balance_timeout", pk=order.pk, at=order.balance_deadline)
    if transition in ("pay", "pay_deposit"):
        short = stock_occupy_lines(list(order.lines.all()), province=order.province)
        if short:
            stock_short_event(order=order, actor=actor, sku_codes=[ln.sku_code for ln in short])
            exception_open(
                order=order,
                kind=ExceptionKind.OVERSELL,
                actor=actor,
                detail=gettext_noop("付款时库存不足（超卖）：%(names)s"),
                detail_params={"names": [ln.product_name for ln in short]},
                data={"lines": [{"sku_id": ln.sku_id, "quantity": ln.quantity} for ln in short]},
            )
    if order.needs_risk_review:
        exception_open(
            order=order,
            kind=ExceptionKind.RISK_REVIEW,
            actor=actor,
            detail=gettext_noop("订单金额达到%(amount)s元，发货前需风控审核"),
            detail_params={"amount": str(settings.PAYMENT_RISK_REVIEW_AMOUNT)},
        )
    return "applied"


def _callback_seen(payment: Payment, *, channel_txn_id: str, status: str) -> bool:
    """Whether this callback's news is already applied: keyed by the transaction id AND its outcome.

    Channels reuse one transaction id for a failed try and its successful retry, so the id
    alone would drop the success and leave the buyer charged for an order that times out.
    Once a transaction id has succeeded, nothing later about it can change the outcome.
    """
    if LedgerEntry.objects.filter(channel_txn_id=channel_txn_id).exists():
        return True
    if payment.channel_txn_id != channel_txn_id:
        return False
    return payment.status == status or payment.status == PaymentStatus.SUCCEEDED


def payment_callback_apply(
    *,
    payment_id: int,
    channel_txn_id: str,
    status: str,
    amount: Decimal,
    failure_reason: str = "",
    at: datetime | None = None,
) -> str:
    """Apply one payment callback; returns applied / duplicate / flagged / ignored. Replays change nothing."""
    payment = Payment.objects.filter(pk=payment_id).only("order_id").first()
    if payment is None:
        raise NotFound(_("支付单不存在"), code="payment_not_found")
    now = timezone.now()
    with transaction.atomic():
        order = order_lock(payment.order_id)  # order first, then payment: the same order as payment_create
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        actor = Actor.channel(payment.channel)
        if _callback_seen(payment, channel_txn_id=channel_txn_id, status=status):
            return "duplicate"
        if status == PaymentStatus.SUCCEEDED:
            # A success always wins, even over an earlier failure: the money has moved.
            payment.status = PaymentStatus.SUCCEEDED
            payment.channel_txn_id = channel_txn_id
            payment.failure_reason = ""
            payment.settled_at = at or now
            payment.save()
            LedgerEntry.objects.create(
                order=order, kind=LedgerKind.ESCROW_IN, amount=amount, payment=payment, channel_txn_id=channel_txn_id
            )
            payment_succeeded_event(order=order, actor=actor, payment=payment, amount=amount)
            if amount != payment.amount:
                # Booked as received, but the order does not move on a wrong amount: someone must look.
                exception_open(
                    order=order,
                    kind=ExceptionKind.PAYMENT_ANOMALY,
                    actor=actor,
                    detail=gettext_noop("渠道到账%(got)s元，与支付单金额%(want)s元不符"),
                    detail_params={"got": str(amount), "want": str(payment.amount)},
                    data={"payment_id": payment.pk, "amount": str(amount), "expected": str(payment.amount)},
                )
                return "flagged"
            return _apply_success(order, payment, actor, now)
        # A failure after a success for the same attempt is stale news: record it and change nothing.
        if payment.status == PaymentStatus.SUCCEEDED:
            payment_ignored_event(order=order, actor=actor, payment=payment, reason=gettext_noop("支付成功后又收到失败回调，已忽略"))
            return "ignored"
        payment.status = PaymentStatus.FAILED
        payment.channel_txn_id = channel_txn_id
        payment.failure_reason = failure_reason if failure_reason in PaymentFailure.values else PaymentFailure.OTHER
        payment.settled_at = at or now
        payment.save()
        if order.status == OrderStatus.PENDING_PAYMENT:
            # The order stays 待支付 and can be paid again; its lock goes back until the retry.
            stock_release_lines([ln for ln in order.lines.all() if ln.stock_state == LineStock.LOCKED])
        payment_failed_event(order=order, actor=actor, payment=payment)
        return "applied"

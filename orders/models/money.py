"""Money: payments, the escrow ledger, settlements to the merchant."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.constants import (
    LedgerKind,
    PaymentChannel,
    PaymentFailure,
    PaymentPurpose,
    PaymentStatus,
    RefundStatus,
)
from orders.models.base import MONEY
from orders.models.order import Order, OrderLine
from shop_admin.kernel.models import Shop


class Payment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    channel = models.CharField(_("支付渠道"), max_length=20, choices=PaymentChannel.choices)
    purpose = models.CharField(_("用途"), max_length=10, choices=PaymentPurpose.choices, default=PaymentPurpose.FULL)
    amount = models.DecimalField(_("金额"), **MONEY)
    status = models.CharField(_("状态"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.CREATED)
    channel_txn_id = models.CharField(_("渠道流水号"), max_length=64, null=True, blank=True, unique=True)
    failure_reason = models.CharField(_("失败原因"), max_length=30, choices=PaymentFailure.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(_("回调时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("支付")
        verbose_name_plural = _("支付")
        indexes = [
            # The "recover within 2 h" queue: recent failures only, a tiny index however many payments there are.
            models.Index(fields=["settled_at"], name="payment_failed_recent", condition=models.Q(status=PaymentStatus.FAILED)),
        ]

    def __str__(self) -> str:
        return _("订单 %(order)s 的支付 #%(id)s %(amount)s") % {"order": self.order, "id": self.pk, "amount": self.amount}


class Refund(models.Model):
    """Money going back to the buyer by the route it came: the channel of the order's payment.

    Its primary key is the `refund_id` the channel echoes in its signed callback. A
    failed refund stays visible as `failed` and is retried at `retry_at` (the
    `refund_retry` deadline); every refund, whatever its status, counts against what
    can still be refunded, since a failed one is still owed.
    """

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds")
    channel = models.CharField(_("退款渠道"), max_length=20, choices=PaymentChannel.choices, blank=True)
    amount = models.DecimalField(_("退款金额"), **MONEY)
    status = models.CharField(_("状态"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    channel_txn_id = models.CharField(_("渠道退款流水号"), max_length=64, null=True, blank=True, unique=True)
    # Failed callbacks already applied, so a replay of one changes nothing.
    failed_txn_ids = models.JSONField(default=list, blank=True)
    failure_reason = models.CharField(_("失败原因"), max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(_("提交次数"), default=1)
    source = models.CharField(_("来源"), max_length=40, blank=True, help_text=_("aftersale:<id>、exception:<id> 等"))
    reason = models.CharField(_("退款原因"), max_length=200, blank=True)
    actor_label = models.CharField(_("发起人"), max_length=64, blank=True)
    # Created after the order settled: the merchant's settlement gives the money back when it succeeds.
    after_settlement = models.BooleanField(_("结算后退款"), default=False)
    created_at = models.DateTimeField(_("发起时间"), auto_now_add=True)
    succeeded_at = models.DateTimeField(_("到账时间"), null=True, blank=True)
    failed_at = models.DateTimeField(_("失败时间"), null=True, blank=True)
    retry_at = models.DateTimeField(_("重试时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("退款")
        verbose_name_plural = _("退款")
        indexes = [
            models.Index(fields=["order", "status"], name="refund_order_status"),
            models.Index(fields=["source"], name="refund_source"),
            models.Index(fields=["retry_at"], name="refund_retry_due", condition=Q(status=RefundStatus.FAILED)),
        ]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.amount}"

    @property
    def refund_id(self) -> int:
        return self.pk


class RefundLine(models.Model):
    """The part of one order line a refund covers: units and the money allotted to them."""

    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="refund_lines")
    quantity = models.PositiveIntegerField(_("数量"))
    amount = models.DecimalField(_("金额"), **MONEY)

    class Meta:
        verbose_name = _("退款商品")
        verbose_name_plural = _("退款商品")

    def __str__(self) -> str:
        return _("退款 #%(refund)s 的商品 #%(line)s ×%(quantity)s") % {"refund": self.refund_id, "line": self.line_id, "quantity": self.quantity}


class LedgerEntry(models.Model):
    """Every movement of money through the platform's escrow (监管账户); append-only."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(max_length=20, choices=LedgerKind.choices)
    amount = models.DecimalField(**MONEY)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger")
    refund = models.ForeignKey(Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger")
    # A channel transaction is booked at most once, whatever the callback replays.
    channel_txn_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("资金流水")
        verbose_name_plural = _("资金流水")
        constraints = [
            # A refund leaves escrow once, whatever the callback replays.
            models.UniqueConstraint(fields=["refund"], condition=Q(kind=LedgerKind.REFUND_OUT), name="ledger_one_refund_out")
        ]

    def __str__(self) -> str:
        return _("订单 %(order)s 的资金流水 #%(id)s %(amount)s") % {"order": self.order, "id": self.pk, "amount": self.amount}


class Settlement(models.Model):
    """What the merchant receives for one completed order: escrow minus commission."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="settlement")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    gross = models.DecimalField(**MONEY)
    commission = models.DecimalField(**MONEY)
    net = models.DecimalField(**MONEY)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("结算单")
        verbose_name_plural = _("结算单")

    def __str__(self) -> str:
        return _("订单 %(order)s 的结算单") % {"order": self.order}

"""Money: payments, the escrow ledger, settlements to the merchant."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.constants import (
    LedgerKind,
    PaymentChannel,
    PaymentFailure,
    PaymentPurpose,
    PaymentStatus,
)
from orders.models.base import MONEY
from orders.models.order import Order
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


class LedgerEntry(models.Model):
    """Every movement of money through the platform's escrow (监管账户); append-only."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(max_length=20, choices=LedgerKind.choices)
    amount = models.DecimalField(**MONEY)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger")
    # A channel transaction is booked at most once, whatever the callback replays.
    channel_txn_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("资金流水")
        verbose_name_plural = _("资金流水")


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

"""The one exception record any app raises against an order."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.constants import (
    ExceptionKind,
    ExceptionStatus,
)
from orders.models.order import Order
from shop_admin.kernel.models import Shop


class OrderException(models.Model):
    """The one exception record any app raises against an order (logistics, stock, payment, after-sale)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="exceptions")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("异常类型"), max_length=20, choices=ExceptionKind.choices)
    status = models.CharField(_("状态"), max_length=10, choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN)
    detail = models.TextField(_("说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    resolution = models.TextField(_("处理结果"), blank=True)

    class Meta:
        verbose_name = _("订单异常")
        verbose_name_plural = _("订单异常")
        indexes = [models.Index(fields=["shop", "status", "kind"], name="exception_shop_status_kind")]
        constraints = [
            # One open exception of a kind per order: raising it again is a no-op, not a duplicate.
            models.UniqueConstraint(
                fields=["order", "kind"], condition=Q(status=ExceptionStatus.OPEN), name="exception_one_open_per_kind"
            )
        ]

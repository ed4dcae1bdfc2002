"""The daily reconciliation's result: every mismatch of one day, kept for the console page."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReconciliationRun(models.Model):
    """One run of `reconcile` for a shop-time day; a re-run of the same day replaces it."""

    day = models.DateField(_("对账日期"), unique=True)
    ran_at = models.DateTimeField(_("对账时间"))
    checked_orders = models.PositiveIntegerField(_("核对订单数"), default=0)
    checked_payments = models.PositiveIntegerField(_("核对支付数"), default=0)
    # [{code, order_no, shop_id, message, expected, actual}]
    mismatches = models.JSONField(default=list)

    class Meta:
        verbose_name = _("对账记录")
        verbose_name_plural = _("对账记录")
        ordering = ["-day"]

    def __str__(self) -> str:
        return _("%(day)s 的对账") % {"day": self.day}

"""A daily rollup of each shop's orders, so the dashboard's 30-day trend reads 29 small rows, not 150,000 orders."""
from django.db import models
from django.utils.translation import gettext_lazy as _

from shop_admin.kernel.models import Shop


class OrderDayStat(models.Model):
    """One shop's orders placed on one day (shop time): how many, paid, the GMV paid, and how many were closed (refunded).

    Written by `orders.daystats.order_day_stats_refresh` (the cron job beside the deadline sweep) for past
    days only; today is always counted live. A day without a row is counted live too.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    orders = models.PositiveIntegerField(default=0)
    gmv = models.DecimalField(max_digits=16, decimal_places=2, default=0)  # a day of a big shop outgrows MONEY
    paid_orders = models.PositiveIntegerField(default=0)
    refunded = models.PositiveIntegerField(default=0)
    # Orders paid on this day (by paid_at, whenever placed): the after-sale rate's "paid orders in 30 days".
    paid_on_day = models.PositiveIntegerField(default=0)
    # When the refresh that wrote the row started: the next one re-reads orders changed since then.
    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "day"], name="order_day_stat_unique")]

    def __str__(self) -> str:
        return _("店铺 #%(shop)s %(day)s 的订单统计") % {"shop": self.shop_id, "day": self.day}

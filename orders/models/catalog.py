"""Products and their SKUs, as the shop sells them."""
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.constants import (
    OrderKind,
)
from orders.models.base import MONEY
from shop_admin.kernel.models import Shop


class Product(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("商品名称"), max_length=120)
    category = models.CharField(_("类目"), max_length=60, blank=True)
    freight = models.DecimalField(_("运费"), default=Decimal("0.00"), **MONEY)
    is_fresh = models.BooleanField(_("生鲜"), default=False)
    is_fragile = models.BooleanField(_("易碎"), default=False)
    is_virtual = models.BooleanField(_("虚拟商品"), default=False)
    is_presale = models.BooleanField(_("预售"), default=False)
    presale_deposit_ratio = models.DecimalField(_("定金比例"), max_digits=4, decimal_places=2, null=True, blank=True)
    presale_balance_due = models.DateTimeField(_("尾款截止"), null=True, blank=True)
    presale_ship_days = models.PositiveSmallIntegerField(_("预售发货天数"), null=True, blank=True)
    # Province names (GB/T 2260, or 香港特别行政区 / 澳门特别行政区 / 台湾省) this product is not delivered to.
    excluded_regions = models.JSONField(_("不配送地区"), default=list, blank=True)
    is_active = models.BooleanField(_("在售"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The product's score, kept in the same transaction as each review counted or hidden (aftersale's services), so a
    # product list reads it without a grouped query over every review.
    review_count = models.PositiveIntegerField(_("评价数"), default=0)
    rating_total = models.PositiveIntegerField(_("评分合计"), default=0)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        constraints = [
            models.CheckConstraint(
                # The platform's bounds (settings); changing them is a migration, which re-checks every product.
                condition=Q(presale_deposit_ratio__isnull=True)
                | Q(
                    presale_deposit_ratio__gte=settings.PRESALE_DEPOSIT_RATIO_MIN,
                    presale_deposit_ratio__lte=settings.PRESALE_DEPOSIT_RATIO_MAX,
                ),
                name="product_presale_deposit_ratio_in_bounds",
            ),
        ]

    @property
    def rating(self) -> float | None:
        """The average of the counted reviews, one decimal; None before the first."""
        return round(self.rating_total / self.review_count, 1) if self.review_count else None

    def __str__(self) -> str:
        return self.name

    @property
    def kind(self) -> str:
        if self.is_presale:
            return OrderKind.PRESALE
        if self.is_virtual:
            return OrderKind.VIRTUAL
        if self.is_fresh:
            return OrderKind.FRESH
        return OrderKind.NORMAL


class Sku(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("SKU编码"), max_length=64)
    spec = models.CharField(_("商品规格"), max_length=120, blank=True)
    price = models.DecimalField(_("单价"), **MONEY)
    is_active = models.BooleanField(_("在售"), default=True)

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKU")
        constraints = [
            models.UniqueConstraint(fields=["shop", "code"], name="sku_unique_code_per_shop"),
            models.CheckConstraint(condition=Q(price__gt=0), name="sku_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} {self.spec}".strip()

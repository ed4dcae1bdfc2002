"""Coupons, full-reduction campaigns and what each order redeemed."""
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.models.base import MONEY
from orders.models.buyers import Buyer
from orders.models.catalog import Product
from orders.models.order import Order
from shop_admin.kernel.models import Shop


class Coupon(models.Model):
    """A shop coupon (满减券) or a compensation coupon bound to one buyer and one order."""

    class Scope(models.TextChoices):
        SHOP = "shop", _("全店")
        PRODUCT = "product", _("指定商品")

    class Kind(models.TextChoices):
        SHOP = "shop", _("店铺券")  # handed out by the shop to anyone
        COMPENSATION = "compensation", _("补偿券")  # one buyer's compensation for one exception

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("券码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.SHOP)
    scope = models.CharField(_("范围"), max_length=10, choices=Scope.choices, default=Scope.SHOP)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.CASCADE)
    discount = models.DecimalField(_("面额"), **MONEY)
    threshold = models.DecimalField(_("使用门槛"), default=Decimal("0.00"), **MONEY)
    valid_from = models.DateTimeField(_("生效时间"))
    valid_to = models.DateTimeField(_("失效时间"))
    per_buyer_limit = models.PositiveSmallIntegerField(_("每人限用"), default=1)
    buyer = models.ForeignKey(Buyer, null=True, blank=True, on_delete=models.CASCADE, help_text=_("补偿券只给这位买家"))
    compensation_for = models.ForeignKey(
        "Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="compensation_coupons"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("优惠券")
        verbose_name_plural = _("优惠券")
        constraints = [models.CheckConstraint(condition=Q(discount__gt=0), name="coupon_discount_positive")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class FullReduction(models.Model):
    """Shop-wide 满减: spend `threshold`, get `discount` off. The best one that applies is used."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    threshold = models.DecimalField(_("满"), **MONEY)
    discount = models.DecimalField(_("减"), **MONEY)
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField()

    class Meta:
        verbose_name = _("满减活动")
        verbose_name_plural = _("满减活动")


class CouponRedemption(models.Model):
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="coupon_redemptions")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="coupon_redemptions")
    amount = models.DecimalField(**MONEY)
    released_at = models.DateTimeField(null=True, blank=True, help_text=_("订单取消后退回"))
    created_at = models.DateTimeField(auto_now_add=True)

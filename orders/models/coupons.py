"""Coupons, full-reduction campaigns, what buyers claimed and what each order redeemed."""
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from orders.models.base import MONEY
from orders.models.buyers import Buyer
from orders.models.catalog import Product, Sku
from orders.models.order import Order
from shop_admin.kernel.models import Shop


class Coupon(ConcurrentTransitionMixin, models.Model):
    """A shop coupon (满减券) or a compensation coupon bound to one buyer and one order.

    A coupon with a `total_quantity` is a campaign: buyers claim it (`issued` counts the claims, never past the
    total) and only a claimed coupon is used at checkout. Without a total (compensation and older shop coupons)
    it is used directly, up to `per_buyer_limit` per buyer.
    """

    class Scope(models.TextChoices):
        SHOP = "shop", _("全店")
        PRODUCT = "product", _("指定商品")
        SKUS = "skus", _("指定SKU")

    class State(models.TextChoices):
        ACTIVE = "active", _("进行中")  # claimable within its window
        ENDED = "ended", _("已结束")  # ended by the merchant: no more claims; claimed ones stay usable

    class Kind(models.TextChoices):
        SHOP = "shop", _("店铺券")  # handed out by the shop to anyone
        COMPENSATION = "compensation", _("补偿券")  # one buyer's compensation for one exception

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("券码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.SHOP)
    scope = models.CharField(_("范围"), max_length=10, choices=Scope.choices, default=Scope.SHOP)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.CASCADE)
    # An amount coupon takes `discount` off; a rate coupon (折扣券) makes the buyer pay `discount_rate` of the base
    # (0.85 is 8.5折) and takes off at most `discount`, the merchant's cap or the platform's when none was given.
    discount = models.DecimalField(_("面额"), help_text=_("满减券的面额；折扣券最多减的金额"), **MONEY)
    discount_rate = models.DecimalField(
        _("折扣"), max_digits=3, decimal_places=2, null=True, blank=True, help_text=_("折扣券买家所付的比例，0.85 即 8.5 折；满减券为空")
    )
    threshold = models.DecimalField(_("使用门槛"), default=Decimal("0.00"), **MONEY)
    valid_from = models.DateTimeField(_("生效时间"))
    valid_to = models.DateTimeField(_("失效时间"))
    per_buyer_limit = models.PositiveSmallIntegerField(_("每人限用"), default=1)
    skus = models.ManyToManyField(Sku, blank=True, related_name="+", verbose_name=_("适用SKU"))
    total_quantity = models.PositiveIntegerField(_("发行总量"), null=True, blank=True)
    issued = models.PositiveIntegerField(_("已领取"), default=0)
    state = FSMField(_("状态"), max_length=10, choices=State.choices, default=State.ACTIVE, protected=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    buyer = models.ForeignKey(Buyer, null=True, blank=True, on_delete=models.CASCADE, help_text=_("补偿券只给这位买家"))
    compensation_for = models.ForeignKey(
        "Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="compensation_coupons"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("优惠券")
        verbose_name_plural = _("优惠券")
        constraints = [
            models.CheckConstraint(condition=Q(discount__gt=0), name="coupon_discount_positive"),
            models.CheckConstraint(
                condition=Q(discount_rate__isnull=True) | Q(discount_rate__gt=0, discount_rate__lt=1), name="coupon_rate_within_0_1"
            ),
            # The claim's conditional UPDATE is the guard; this is the database's word that nothing got past it.
            models.CheckConstraint(
                condition=Q(total_quantity__isnull=True) | Q(issued__lte=F("total_quantity")), name="coupon_issued_within_total"
            ),
        ]
        indexes = [models.Index(fields=["shop", "state", "valid_to"], name="coupon_shop_state_valid_to")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def needs_claim(self) -> bool:
        return self.total_quantity is not None

    @property
    def is_rate(self) -> bool:
        return self.discount_rate is not None

    @property
    def zhe(self) -> str:
        """The rate as a Chinese merchant says it: 0.85 is "8.5" (折), 0.90 is "9"."""
        if self.discount_rate is None:
            return ""
        return format((self.discount_rate * 10).normalize(), "f")

    @transition(field=state, source=State.ACTIVE, target=State.ENDED)
    def end(self) -> None:
        """No more claims; what buyers already claimed stays usable until `valid_to`."""


class CouponClaim(models.Model):
    """One coupon a buyer claimed (领券); used at most once by an order (CouponRedemption)."""

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="claims")
    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="coupon_claims")
    claimed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("领券记录")
        verbose_name_plural = _("领券记录")
        indexes = [
            models.Index(fields=["coupon", "buyer"], name="coupon_claim_coupon_buyer"),
            models.Index(fields=["coupon", "claimed_at"], name="coupon_claim_coupon_day"),
        ]

    def __str__(self) -> str:
        return _("领券 #%(id)s：买家 #%(buyer)s 领取优惠券 #%(coupon)s") % {"id": self.pk, "buyer": self.buyer_id, "coupon": self.coupon_id}


class CouponEvent(models.Model):
    """The audit trail of a coupon campaign (created, ended): who, when, what. Append-only."""

    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20)
    actor_kind = models.CharField(max_length=10)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("优惠券日志")
        verbose_name_plural = _("优惠券日志")
        ordering = ["created_at", "id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("coupon events are append-only")
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return _("优惠券 %(coupon)s 的日志 #%(id)s") % {"coupon": self.coupon, "id": self.pk}


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

    def __str__(self) -> str:
        return _("满%(threshold)s减%(discount)s") % {"threshold": self.threshold, "discount": self.discount}


class CouponRedemption(models.Model):
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="coupon_redemptions")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="coupon_redemptions")
    amount = models.DecimalField(**MONEY)
    released_at = models.DateTimeField(null=True, blank=True, help_text=_("订单取消后退回"))
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return _("优惠券 #%(coupon)s 用于订单 #%(order)s，抵扣 %(amount)s") % {"coupon": self.coupon_id, "order": self.order_id, "amount": self.amount}

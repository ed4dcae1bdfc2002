"""Buyers, products, SKUs and stock, coupons, orders and their lines, payments, the money ledger, exceptions and the audit trail."""
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from orders.constants import (
    EventKind,
    ExceptionKind,
    ExceptionStatus,
    LedgerKind,
    LineStock,
    OrderKind,
    OrderStatus,
    PaymentChannel,
    PaymentFailure,
    PaymentPurpose,
    PaymentStatus,
)
from shop_admin.constants import ActorKind
from shop_admin.models import Shop, Warehouse
from shop_admin.permissions import Perm, system_only, transition_permission

MONEY = {"max_digits": 12, "decimal_places": 2}


def _new_token() -> str:
    return secrets.token_hex(20)


class Buyer(models.Model):
    name = models.CharField(_("买家"), max_length=64, unique=True)
    api_token = models.CharField(max_length=40, unique=True, default=_new_token)
    is_flagged = models.BooleanField(_("风险标记"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("买家")
        verbose_name_plural = _("买家")

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="products")
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

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        constraints = [
            models.CheckConstraint(
                condition=Q(presale_deposit_ratio__isnull=True)
                | Q(presale_deposit_ratio__gte=Decimal("0.10"), presale_deposit_ratio__lte=Decimal("0.20")),
                name="product_presale_deposit_ratio_10_to_20_percent",
            ),
        ]

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
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="skus")
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


class StockLevel(models.Model):
    """Stock of one SKU in one warehouse. Units move available -> locked -> occupied -> deducted (shipped)."""

    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="stock_levels")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="stock_levels")
    available = models.IntegerField(_("可售"), default=0)
    locked = models.IntegerField(_("锁定"), default=0)
    occupied = models.IntegerField(_("占用"), default=0)

    class Meta:
        verbose_name = _("库存")
        verbose_name_plural = _("库存")
        constraints = [
            models.UniqueConstraint(fields=["sku", "warehouse"], name="stock_unique_sku_warehouse"),
            # The last line of defence against overselling: the database refuses a negative count.
            models.CheckConstraint(condition=Q(available__gte=0), name="stock_available_not_negative"),
            models.CheckConstraint(condition=Q(locked__gte=0), name="stock_locked_not_negative"),
            models.CheckConstraint(condition=Q(occupied__gte=0), name="stock_occupied_not_negative"),
        ]


class Coupon(models.Model):
    """A shop coupon (满减券) or a compensation coupon bound to one buyer and one order."""

    class Scope(models.TextChoices):
        SHOP = "shop", _("全店")
        PRODUCT = "product", _("指定商品")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="coupons")
    code = models.CharField(_("券码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
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

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="full_reductions")
    threshold = models.DecimalField(_("满"), **MONEY)
    discount = models.DecimalField(_("减"), **MONEY)
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField()

    class Meta:
        verbose_name = _("满减活动")
        verbose_name_plural = _("满减活动")


class Order(ConcurrentTransitionMixin, models.Model):
    order_no = models.CharField(_("订单号"), max_length=32, unique=True)
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="orders")
    kind = models.CharField(_("订单类型"), max_length=10, choices=OrderKind.choices, default=OrderKind.NORMAL)
    status = FSMField(
        _("订单状态"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT, protected=True
    )

    items_total = models.DecimalField(_("商品总额"), **MONEY)
    coupon_discount = models.DecimalField(_("优惠券"), default=Decimal("0.00"), **MONEY)
    full_reduction = models.DecimalField(_("满减"), default=Decimal("0.00"), **MONEY)
    freight = models.DecimalField(_("运费"), default=Decimal("0.00"), **MONEY)
    subsidy = models.DecimalField(_("平台补贴"), default=Decimal("0.00"), **MONEY)
    payable = models.DecimalField(_("应付金额"), **MONEY)
    deposit_amount = models.DecimalField(_("定金"), null=True, blank=True, **MONEY)
    paid_amount = models.DecimalField(_("实付金额"), default=Decimal("0.00"), **MONEY)
    freight_insurance = models.BooleanField(_("运费险"), default=True)

    recipient_name = models.CharField(_("收件人"), max_length=40)
    phone = models.CharField(_("手机号"), max_length=11)
    province = models.CharField(_("省"), max_length=30)
    city = models.CharField(_("市"), max_length=30)
    district = models.CharField(_("区"), max_length=30)
    address_detail = models.CharField(_("详细地址"), max_length=200)
    is_remote = models.BooleanField(_("偏远地区"), default=False)

    buyer_message = models.CharField(_("买家留言"), max_length=200, blank=True)
    merchant_remark = models.CharField(_("商家备注"), max_length=500, blank=True)
    remark_flag = models.PositiveSmallIntegerField(_("备注旗帜"), default=0)

    payment_attempts = models.PositiveSmallIntegerField(_("支付次数"), default=0)
    is_frozen = models.BooleanField(_("冻结待审"), default=False)
    needs_risk_review = models.BooleanField(_("需风控审核"), default=False)
    on_hold = models.BooleanField(_("异常挂起"), default=False, help_text=_("有未解决的阻断发货的异常"))

    pay_deadline = models.DateTimeField(_("支付截止"), null=True, blank=True)
    balance_deadline = models.DateTimeField(_("尾款截止"), null=True, blank=True)
    ship_deadline = models.DateTimeField(_("发货截止"), null=True, blank=True)
    auto_confirm_at = models.DateTimeField(_("自动确认收货"), null=True, blank=True)

    created_at = models.DateTimeField(_("下单时间"), db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(_("支付时间"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("发货时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        indexes = [
            # Every list ordering ends in -id so ties page stably, and the index alone yields a page's ids.
            models.Index(fields=["shop", "status", "-created_at", "-id"], name="order_shop_status_created"),
            models.Index(fields=["shop", "-created_at", "-id"], name="order_shop_created"),
            models.Index(fields=["shop", "-updated_at", "-id"], name="order_shop_updated"),
            models.Index(fields=["buyer", "-created_at"], name="order_buyer_created"),
            models.Index(fields=["shop", "phone"], name="order_shop_phone"),
            models.Index(fields=["shop", "-paid_at", "-id"], name="order_shop_paid"),
            models.Index(fields=["shop", "ship_deadline"], name="order_ship_due", condition=Q(status=OrderStatus.PAID)),
            # Deadline look-ups of the sweep: only rows still waiting are indexed.
            models.Index(
                fields=["pay_deadline"], name="order_pay_due", condition=Q(status=OrderStatus.PENDING_PAYMENT)
            ),
            models.Index(
                fields=["balance_deadline"], name="order_balance_due", condition=Q(status=OrderStatus.DEPOSIT_PAID)
            ),
            models.Index(
                fields=["auto_confirm_at"],
                name="order_confirm_due",
                condition=Q(status__in=[OrderStatus.SHIPPED, OrderStatus.DELIVERED]),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(payable__gte=Decimal("0.01")), name="order_payable_at_least_one_fen"),
            models.CheckConstraint(condition=Q(remark_flag__lte=5), name="order_remark_flag_0_to_5"),
        ]

    def __str__(self) -> str:
        return self.order_no

    # --- conditions: pure checks over the row ---

    def can_ship(self) -> bool:
        return not self.on_hold and not self.is_frozen and not self.needs_risk_review

    # --- transitions: state only; the services move stock and money and write the event ---

    @transition(field=status, source=OrderStatus.PENDING_PAYMENT, target=OrderStatus.PAID, permission=system_only)
    def pay(self) -> None:
        pass

    @transition(
        field=status, source=OrderStatus.PENDING_PAYMENT, target=OrderStatus.DEPOSIT_PAID, permission=system_only
    )
    def pay_deposit(self) -> None:
        pass

    @transition(field=status, source=OrderStatus.DEPOSIT_PAID, target=OrderStatus.PAID, permission=system_only)
    def pay_balance(self) -> None:
        pass

    @transition(
        field=status,
        source=OrderStatus.PENDING_PAYMENT,
        target=OrderStatus.CANCELLED,
        permission=transition_permission(Perm.ORDER_EDIT),
    )
    def cancel(self) -> None:
        pass

    @transition(field=status, source=OrderStatus.DEPOSIT_PAID, target=OrderStatus.CANCELLED, permission=system_only)
    def forfeit_deposit(self) -> None:
        """Presale balance not paid by its date: only the clock does this."""

    @transition(
        field=status,
        source=OrderStatus.PAID,
        target=OrderStatus.SHIPPED,
        conditions=[can_ship],
        permission=transition_permission(Perm.ORDER_SHIP),
    )
    def ship(self) -> None:
        pass

    @transition(field=status, source=OrderStatus.SHIPPED, target=OrderStatus.DELIVERED, permission=system_only)
    def deliver(self) -> None:
        pass

    @transition(field=status, source=OrderStatus.SHIPPED, target=OrderStatus.REJECTED, permission=system_only)
    def reject(self) -> None:
        pass

    @transition(
        field=status, source=[OrderStatus.SHIPPED, OrderStatus.DELIVERED], target=OrderStatus.COMPLETED, permission=system_only
    )
    def complete(self) -> None:
        pass

    @transition(
        field=status,
        source=[OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.REJECTED, OrderStatus.COMPLETED],
        target=OrderStatus.CLOSED,
        permission=transition_permission(Perm.ORDER_MONEY),
    )
    def close(self) -> None:
        pass


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="order_lines")
    stock_level = models.ForeignKey(StockLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("数量"))
    unit_price = models.DecimalField(_("单价"), **MONEY)
    line_total = models.DecimalField(_("小计"), **MONEY)
    # Snapshot at order time: what the buyer saw, whatever the product says later.
    sku_code = models.CharField(_("SKU编码"), max_length=64)
    product_name = models.CharField(_("商品名称"), max_length=120)
    spec = models.CharField(_("商品规格"), max_length=120, blank=True)
    product_snapshot = models.JSONField(default=dict)
    stock_state = models.CharField(_("库存状态"), max_length=10, choices=LineStock.choices, default=LineStock.LOCKED)

    class Meta:
        verbose_name = _("订单商品")
        verbose_name_plural = _("订单商品")
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="line_quantity_positive")]


class CouponRedemption(models.Model):
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="coupon_redemptions")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="coupon_redemptions")
    amount = models.DecimalField(**MONEY)
    released_at = models.DateTimeField(null=True, blank=True, help_text=_("订单取消后退回"))
    created_at = models.DateTimeField(auto_now_add=True)


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
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="settlements")
    gross = models.DecimalField(**MONEY)
    commission = models.DecimalField(**MONEY)
    net = models.DecimalField(**MONEY)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("结算单")
        verbose_name_plural = _("结算单")


class OrderException(models.Model):
    """The one exception record any app raises against an order (logistics, stock, payment, after-sale)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="exceptions")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="order_exceptions")
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


class OrderEvent(models.Model):
    """The audit trail: who, when, from, to, why. Append-only; kept at least AUDIT_RETENTION."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=64, blank=True)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("订单日志")
        verbose_name_plural = _("订单日志")
        ordering = ["created_at", "id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("order events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("order events are append-only")


class IdempotencyRecord(models.Model):
    """The answer given to one `Idempotency-Key`, replayed for a retried request."""

    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(default=0)
    response_body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["buyer", "key"], name="idempotency_unique_buyer_key")]


class StockAdjustment(models.Model):
    """Audit of a stock edit by a merchant or an ERP sync: counts before and after. Append-only."""

    stock_level = models.ForeignKey(StockLevel, on_delete=models.CASCADE, related_name="adjustments")
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=64, blank=True)
    on_hand = models.IntegerField()
    before = models.JSONField()
    after = models.JSONField()
    forced = models.BooleanField(default=False)
    oversold_orders = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("库存调整")
        verbose_name_plural = _("库存调整")
        ordering = ["-created_at"]

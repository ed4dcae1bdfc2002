"""The order with its state machine, and its lines as ordered."""
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from orders.constants import (
    LineStock,
    OrderKind,
    OrderStatus,
)
from orders.models.base import MONEY
from orders.models.buyers import Buyer
from orders.models.catalog import Sku
from orders.models.stock import StockLevel
from shop_admin.kernel.constants import ActorKind
from shop_admin.kernel.models import Shop
from shop_admin.kernel.permissions import Perm, system_only, transition_permission


class Order(ConcurrentTransitionMixin, models.Model):
    order_no = models.CharField(_("订单号"), max_length=32, unique=True)
    # No index of their own: every composite index below starts with shop or buyer and serves their lookups, and
    # two more indexes on the busiest table were two more writes per order.
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+", db_index=False)
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="orders", db_index=False)
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
    # While an after-sale case is open the auto-confirm clock stops; what was left of it waits here.
    auto_confirm_paused_at = models.DateTimeField(_("自动确认暂停于"), null=True, blank=True)
    auto_confirm_remaining = models.DurationField(_("自动确认剩余时间"), null=True, blank=True)

    # Order recovery (订单召回): the cancelled order this one was recovered from; the old one reaches it as `recovered_to`.
    recovered_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="recovered_to", verbose_name=_("召回自")
    )

    created_at = models.DateTimeField(_("下单时间"), db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(_("支付时间"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("发货时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    # Who cancelled it: recovery (订单召回) is for orders the clock cancelled, never for one the buyer gave up on purpose.
    cancelled_by = models.CharField(_("取消方"), max_length=10, choices=ActorKind.choices, blank=True)

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
            # The deadline queue's kinds read a page in (deadline, id) order: with the id in the index the read stops at the page's
            # rows instead of sorting every row that shares a deadline (tests/perf/deadline_queue.py).
            models.Index(fields=["shop", "ship_deadline", "id"], name="order_ship_due", condition=Q(status=OrderStatus.PAID)),
            # The deadline queue's recovery windows closing: the unpaid orders the clock or a failed payment cancelled, by when
            # (the rules of `recovery_refusal` the index can hold; the buyer's own cancellations are a third of the range).
            models.Index(
                fields=["shop", "cancelled_at", "id"],
                name="order_recovery_open",
                condition=Q(status=OrderStatus.CANCELLED, paid_amount=0) & ~Q(cancelled_by=ActorKind.BUYER),
            ),
            # The dashboard's risk-review tile: the few paid orders held for review (it read every paid order's row).
            models.Index(
                fields=["shop", "id"],
                name="order_risk_review",
                condition=Q(status=OrderStatus.PAID) & (Q(needs_risk_review=True) | Q(is_frozen=True)),
            ),
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

    def address_dict(self) -> dict[str, str]:
        """The delivery address in the API's and the audit trail's shape."""
        return {
            "name": self.recipient_name,
            "phone": self.phone,
            "province": self.province,
            "city": self.city,
            "district": self.district,
            "detail": self.address_detail,
        }

    def get_status_display(self) -> str:
        # Django's generated one rebuilds a dict of the field's choices on every call (a
        # sixth of the order list's time at 20 rows); the enum's own lookup is a dict hit.
        try:
            return OrderStatus(self.status).label
        except ValueError:
            return self.status

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
    # Units that left the warehouse and came back on sale (a return that passed inspection, an intercepted parcel).
    returned_quantity = models.PositiveIntegerField(_("退回入库数量"), default=0)

    class Meta:
        verbose_name = _("订单商品")
        verbose_name_plural = _("订单商品")
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="line_quantity_positive")]

    def __str__(self) -> str:
        return _("订单 %(order)s 的 %(product)s ×%(quantity)s") % {"order": self.order, "product": f"{self.product_name} {self.spec}".strip(), "quantity": self.quantity}

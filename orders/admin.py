"""Admin of orders for platform staff: read the whole record; act only through the services."""
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from orders.models import (
    Buyer,
    Coupon,
    FullReduction,
    LedgerEntry,
    Order,
    OrderEvent,
    OrderException,
    OrderLine,
    Payment,
    Product,
    Settlement,
    Sku,
    StockAdjustment,
    StockLevel,
)
from orders.services.exceptions import exception_resolve
from orders.services.lifecycle import order_risk_approve
from shop_admin.actors import Actor
from shop_admin.errors import DomainError


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["sku_code", "product_name", "spec", "quantity", "unit_price", "line_total", "stock_state"]


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["channel", "purpose", "amount", "status", "channel_txn_id", "failure_reason", "created_at"]
    readonly_fields = ["created_at"]


class EventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["created_at", "kind", "actor_kind", "actor_label", "from_status", "to_status", "reason"]
    readonly_fields = ["created_at"]


class ExceptionInline(ReadOnlyInline):
    model = OrderException
    fields = ["kind", "status", "detail", "opened_at", "resolved_at", "resolution"]
    readonly_fields = ["opened_at"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["order_no", "shop", "status", "payable", "created_at", "on_hold", "needs_risk_review", "is_frozen"]
    list_filter = ["status", "kind", "on_hold", "needs_risk_review", "is_frozen", "shop"]
    search_fields = ["order_no", "phone", "recipient_name"]
    date_hierarchy = "created_at"
    inlines = [LineInline, PaymentInline, ExceptionInline, EventInline]
    actions = ["approve_risk"]
    list_select_related = ["shop"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # State, money and stock change only through the services, never by editing a field here.
        return [f.name for f in Order._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("风控审核通过（允许发货）"))
    def approve_risk(self, request, queryset):
        for order in queryset:
            try:
                order_risk_approve(order=order, actor=Actor.platform(request.user), note=_("平台审核通过"))
            except DomainError as exc:
                self.message_user(request, f"{order.order_no}: {exc.message}", messages.WARNING)


@admin.register(OrderException)
class OrderExceptionAdmin(admin.ModelAdmin):
    list_display = ["order", "kind", "status", "opened_at", "resolved_at"]
    list_filter = ["kind", "status"]
    search_fields = ["order__order_no"]
    raw_id_fields = ["order"]
    readonly_fields = ["order", "shop", "kind", "status", "detail", "data", "opened_at", "resolved_at", "resolution"]
    actions = ["resolve"]

    @admin.action(description=_("标记为已解决"))
    def resolve(self, request, queryset):
        for exception in queryset:
            try:
                exception_resolve(exception=exception, actor=Actor.platform(request.user), resolution=_("平台处理"))
            except DomainError as exc:
                self.message_user(request, exc.message, messages.WARNING)


@admin.register(OrderEvent)
class OrderEventAdmin(admin.ModelAdmin):
    list_display = ["order", "kind", "actor_kind", "actor_label", "from_status", "to_status", "created_at"]
    list_filter = ["kind", "actor_kind"]
    search_fields = ["order__order_no"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SkuInline(admin.TabularInline):
    model = Sku
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "shop", "category", "is_presale", "is_fresh", "is_virtual", "is_active"]
    list_filter = ["shop", "is_presale", "is_fresh"]
    inlines = [SkuInline]


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    list_display = ["sku", "warehouse", "available", "locked", "occupied"]
    readonly_fields = ["available", "locked", "occupied"]


for model in (Buyer, Coupon, FullReduction, Payment, LedgerEntry, Settlement, StockAdjustment):
    admin.site.register(model)

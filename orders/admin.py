"""Admin of orders for platform staff: read the whole record; act only through the services."""
from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.forms import ConfirmImportForm, ExportForm, ImportForm

from orders.events import order_event_kind_choices, order_event_kind_label
from orders.models import (
    AuditPrune,
    Buyer,
    ContactExport,
    Coupon,
    CouponEvent,
    FullReduction,
    LedgerEntry,
    Order,
    OrderEvent,
    OrderException,
    OrderLine,
    Payment,
    Product,
    Refund,
    Settlement,
    Sku,
    StockAdjustment,
    StockLevel,
)
from orders.resources import ConsoleCsv, OrderImportResource, OrderLineExportResource, order_lines_with_parts
from orders.selectors import order_search_q
from orders.services.exceptions import exception_resolve
from orders.services.lifecycle import order_risk_approve
from shop_admin.kernel.admin import LargeTableAdmin, ReadOnlyAdmin, ReadOnlyInline, service_action
from shop_admin.kernel.models import Shop
from shop_admin.kernel.selectors import shop_ids_all


class LineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["sku_code", "product_name", "spec", "quantity", "unit_price", "line_total", "stock_state"]

    def get_queryset(self, request):
        # each row is named by its order
        return super().get_queryset(request).select_related("order")


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["channel", "purpose", "amount", "status", "channel_txn_id", "failure_reason", "created_at"]
    readonly_fields = ["created_at"]


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["channel", "amount", "status", "channel_txn_id", "failure_reason", "attempts", "source", "created_at", "succeeded_at"]
    readonly_fields = ["created_at", "succeeded_at"]


class EventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["created_at", "kind", "actor_kind", "actor_label", "from_status", "to_status", "reason"]
    readonly_fields = ["created_at"]


class ExceptionInline(ReadOnlyInline):
    model = OrderException
    fields = ["kind", "status", "detail", "opened_at", "resolved_at", "resolution"]
    readonly_fields = ["opened_at"]


class OrderImportForm(ImportForm):
    shop = forms.ModelChoiceField(queryset=Shop.objects.order_by("pk"), label=_("导入到店铺"))


class OrderConfirmImportForm(ConfirmImportForm):
    shop = forms.ModelChoiceField(queryset=Shop.objects.order_by("pk"), widget=forms.HiddenInput)


@admin.register(Order)
class OrderAdmin(ImportExportMixin, LargeTableAdmin):
    """Platform staff import and export the console's CSV here too: the same resource, checks and columns."""

    resource_classes = [OrderImportResource]
    import_form_class = OrderImportForm
    confirm_form_class = OrderConfirmImportForm
    export_form_class = ExportForm  # the contract's columns, always all of them
    list_display = ["order_no", "shop", "status", "payable", "created_at", "holds"]
    list_filter = ["status", "kind", "on_hold", "needs_risk_review", "is_frozen", "shop"]
    # Read as the console reads its search box (order_search_q); no date_hierarchy, whose year links
    # are a DISTINCT over every order's date.
    search_fields = ["order_no", "phone"]
    search_help_text = _("订单号、手机号、运单号或商品名")
    inlines = [LineInline, PaymentInline, RefundInline, ExceptionInline, EventInline]
    actions = [
        service_action(
            description=_("风控审核通过（允许发货）"),
            apply=lambda order, actor: order_risk_approve(order=order, actor=actor, note=gettext("平台审核通过")),
        )
    ]
    list_select_related = ["shop"]

    @admin.display(description=_("发货阻断"))
    def holds(self, order: Order) -> str:
        # One text column instead of three boolean icons: each icon is a template render per row.
        return " / ".join(
            str(Order._meta.get_field(name).verbose_name)
            for name in ("on_hold", "needs_risk_review", "is_frozen")
            if getattr(order, name)
        ) or "-"

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        shop_id = request.GET.get("shop__id__exact", "")
        shop_ids = [int(shop_id)] if shop_id.isdigit() else shop_ids_all()
        return queryset.filter(order_search_q(shop_ids=shop_ids, q=search_term)), False

    def get_valid_export_item_pks(self, request):
        # The export from the action menu validates the ticked orders against this list. The library's
        # default lists every order's id (a million choices read for one export, and a deprecation
        # warning): only the ticked ones that exist are needed.
        ticked = [pk for pk in request.POST.getlist("export_items") if pk.isdigit()]
        return list(Order.objects.filter(pk__in=ticked).values_list("pk", flat=True))

    def get_readonly_fields(self, request, obj=None):
        # State, money and stock change only through the services, never by editing a field here.
        return [f.name for f in Order._meta.fields]

    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        shop = form.cleaned_data.get("shop") if form is not None and hasattr(form, "cleaned_data") else None
        return {"shop_id": shop.pk if shop else None, "user": request.user}

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["shop"] = import_form.cleaned_data["shop"].pk
        return initial

    def get_import_formats(self):
        # Its CSV reads GBK/GB18030 and UTF-8 with or without BOM, as the console does.
        return [ConsoleCsv if f is base_formats.CSV else f for f in super().get_import_formats()]

    def get_export_resource_classes(self, request):
        return [OrderLineExportResource]

    def get_data_for_export(self, request, queryset, **kwargs):
        """The lines of the orders the change list shows or selects, one row per line as in the console."""
        return super().get_data_for_export(request, order_lines_with_parts(queryset), **kwargs)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EscalatedFilter(admin.SimpleListFilter):
    """Open exceptions past their deadline: what the platform steps in on."""

    title = _("升级平台")
    parameter_name = "escalated"

    def lookups(self, request, model_admin):
        return [("yes", _("已升级平台")), ("no", _("未升级"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(escalated_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(escalated_at__isnull=True)
        return queryset


@admin.register(OrderException)
class OrderExceptionAdmin(LargeTableAdmin):
    list_display = ["order", "kind", "status", "opened_at", "deadline", "escalated_at", "resolved_at", "remedy"]
    list_filter = ["kind", "status", EscalatedFilter]
    search_fields = ["=order__order_no"]
    list_select_related = ["order"]
    raw_id_fields = ["order"]
    readonly_fields = [
        "order", "shop", "kind", "status", "detail", "data", "opened_at", "resolved_at", "resolution",
        "deadline", "escalated_at", "evidence", "remedy", "note", "resolved_by", "resolved_by_label", "coupon",
    ]
    actions = [
        service_action(
            description=_("标记为已解决"),
            apply=lambda exception, actor: exception_resolve(exception=exception, actor=actor, resolution=gettext("平台处理")),
            name=lambda exception: exception.order.order_no,
        )
    ]


class EventKindFilter(admin.SimpleListFilter):
    """Every app's event kinds, with the labels they registered (the column has no choices)."""

    title = _("日志类型")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return order_event_kind_choices()

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin, LargeTableAdmin):
    list_display = ["order", "kind_label", "actor_kind", "actor_label", "from_status", "to_status", "created_at"]
    list_filter = [EventKindFilter, "actor_kind"]
    search_fields = ["=order__order_no"]
    list_select_related = ["order"]

    @admin.display(description=_("日志类型"))
    def kind_label(self, event: OrderEvent) -> str:
        return order_event_kind_label(event.kind)


class SkuInline(admin.TabularInline):
    model = Sku
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "shop", "category", "is_presale", "is_fresh", "is_virtual", "is_active"]
    list_filter = ["shop", "is_presale", "is_fresh"]
    inlines = [SkuInline]


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ["sku", "warehouse", "available", "locked", "occupied"]
    list_select_related = ["sku__product", "warehouse"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin, LargeTableAdmin):
    list_display = ["id", "order", "channel", "purpose", "amount", "status", "channel_txn_id", "created_at"]
    list_filter = ["channel", "status"]
    search_fields = ["=channel_txn_id", "=order__order_no"]
    list_select_related = ["order"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin, LargeTableAdmin):
    list_display = ["id", "order", "kind", "amount", "channel_txn_id", "created_at"]
    list_filter = ["kind"]
    search_fields = ["=order__order_no", "=channel_txn_id"]
    list_select_related = ["order"]


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = ["order", "shop", "gross", "commission", "net", "created_at"]
    search_fields = ["=order__order_no"]
    list_select_related = ["order", "shop"]
    show_full_result_count = False


@admin.register(StockAdjustment)
class StockAdjustmentAdmin(ReadOnlyAdmin):
    list_display = ["stock_level", "actor_kind", "actor_label", "on_hand", "forced", "created_at"]
    list_select_related = ["stock_level__sku__product", "stock_level__warehouse"]


@admin.register(AuditPrune)
class AuditPruneAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "ran_by", "retention_days", "cutoff", "events_removed", "adjustments_removed"]


@admin.register(Coupon)
class CouponAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "shop", "kind", "state", "discount", "discount_rate", "threshold", "issued", "total_quantity", "valid_from", "valid_to", "buyer"]
    list_filter = ["kind", "state"]
    search_fields = ["=code"]
    list_select_related = ["shop", "buyer"]


@admin.register(CouponEvent)
class CouponEventAdmin(ReadOnlyAdmin):
    """Who created or ended each campaign, and when."""

    list_display = ["coupon", "kind", "actor_label", "created_at"]
    search_fields = ["=coupon__code"]
    list_select_related = ["coupon"]


for model in (Buyer, FullReduction):
    admin.site.register(model)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    """Refunds by status: a failed one stays visible here until the channel pays it."""

    list_display = ["id", "order", "channel", "amount", "status", "attempts", "failure_reason", "source", "created_at", "succeeded_at"]
    list_filter = ["status", "channel"]
    search_fields = ["order__order_no", "channel_txn_id", "source"]
    list_select_related = ["order"]
    show_full_result_count = False


@admin.register(ContactExport)
class ContactExportAdmin(ReadOnlyAdmin):
    list_display = ["shop", "actor_label", "orders", "job", "created_at"]
    list_filter = ["shop"]

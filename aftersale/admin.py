"""Admin of after-sale cases: platform arbitrators read them here."""
from django.contrib import admin

from aftersale.models import AfterSaleCase
from shop_admin.kernel.admin import LargeTableAdmin


@admin.register(AfterSaleCase)
class AfterSaleCaseAdmin(LargeTableAdmin):
    list_display = ["id", "order", "type", "status", "reply_deadline", "created_at"]
    list_filter = ["type", "status"]
    search_fields = ["=order__order_no"]
    list_select_related = ["order"]
    raw_id_fields = ["order", "buyer"]
    readonly_fields = ["status"]

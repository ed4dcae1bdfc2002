"""Admin of shipments."""
from django.contrib import admin

from logistics.models import Shipment
from shop_admin.kernel.admin import LargeTableAdmin


@admin.register(Shipment)
class ShipmentAdmin(LargeTableAdmin):
    list_display = ["tracking_no", "carrier", "order", "status", "shipped_at"]
    search_fields = ["=tracking_no", "=order__order_no"]
    list_select_related = ["order"]
    raw_id_fields = ["order"]

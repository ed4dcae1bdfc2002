"""Admin of shipments."""
from django.contrib import admin

from logistics.models import Shipment


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ["tracking_no", "carrier", "order", "status", "shipped_at"]
    search_fields = ["tracking_no", "order__order_no"]
    raw_id_fields = ["order"]

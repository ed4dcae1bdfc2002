"""Admin of shops, warehouses, memberships and merchant tokens."""
from django.contrib import admin

from shop_admin.models import Membership, MerchantApiToken, Shop, Warehouse


class WarehouseInline(admin.TabularInline):
    model = Warehouse
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "is_flagship", "created_at"]
    search_fields = ["name"]
    inlines = [WarehouseInline, MembershipInline]


@admin.register(MerchantApiToken)
class MerchantApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at"]
    readonly_fields = ["key", "created_at"]

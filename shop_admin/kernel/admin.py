"""Admin of shops, warehouses, memberships and merchant tokens; the read-only and service-action shapes every app's admin uses."""
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.utils.translation import gettext as _

from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.models import Membership, MerchantApiToken, Shop, Warehouse


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that change only through services (money, stock, the audit trail): staff read them, never edit them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def service_action(*, description, apply: Callable[[Any, Actor], None], name: Callable[[Any], str] = str):
    """An admin action that runs a service on each selected record as the platform; a refusal is reported by record."""

    @admin.action(description=description)
    def action(modeladmin, request, queryset):
        done = 0
        for record in queryset:
            try:
                apply(record, Actor.platform(request.user))
                done += 1
            except DomainError as exc:
                modeladmin.message_user(request, f"{name(record)}: {exc.message}", messages.WARNING)
        if done:
            modeladmin.message_user(request, _("已处理 %(n)d 条") % {"n": done}, messages.SUCCESS)

    return action

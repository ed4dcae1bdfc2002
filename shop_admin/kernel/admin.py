"""Admin of shops, warehouses, memberships and merchant tokens; the read-only and service-action shapes every app's admin uses."""
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
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


# --- changelists over millions of rows ---

EXACT_COUNT_UP_TO = 1000  # below the planner's estimate of this, a changelist counts its rows exactly
SEARCH_IDS_PER_FIELD = 1000  # an exact search takes at most this many ids from each field's index


class EstimatedCountPaginator(Paginator):
    """Counts exactly only what is cheap to count; a larger list takes PostgreSQL's estimate.

    COUNT(*) over a million orders is a scan of a million rows (a second, on every page
    of the changelist). The planner's estimate (EXPLAIN, no scan) is close enough for a
    page count; under EXACT_COUNT_UP_TO rows the exact COUNT is cheap and is used.
    """

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        connection = connections[queryset.db]
        try:
            sql, params = queryset.query.get_compiler(queryset.db).as_sql()
        except EmptyResultSet:  # a filter that can match nothing (a search that found no ids)
            return 0
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
        estimate = int(plan[0]["Plan"]["Plan Rows"])
        return estimate if estimate >= EXACT_COUNT_UP_TO else queryset.count()


class LargeTableAdmin(admin.ModelAdmin):
    """A changelist that stays fast at a million rows: newest first by primary key, no full COUNT, exact indexed search.

    `search_fields` are looked up exactly, one indexed lookup per field (an OR of
    `icontains` over several columns and joins would read every row); the ids found
    are the result. Models whose search needs more override `get_search_results`.
    """

    ordering = ["-pk"]
    paginator = EstimatedCountPaginator
    # Django's changelist with its rows written by `large_admin.large_result_list` (the same markup, per-column facts found once).
    change_list_template = "admin/large_table_change_list.html"
    show_full_result_count = False
    list_per_page = 50

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, obj):
        # The same markup Django renders, without a form widget's template per row (a fifth of a page's time).
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(gettext("Select this object for an action - {}"), str(obj)),
        )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term or not self.search_fields:
            return queryset, False
        ids: set = set()
        for field in self.search_fields:
            lookup = field.lstrip("=^@")
            try:
                ids.update(queryset.filter(**{lookup: term}).values_list("pk", flat=True)[:SEARCH_IDS_PER_FIELD])
            except (ValueError, ValidationError):
                continue  # text that cannot be this field's value (letters for a number) matches nothing there
        return queryset.filter(pk__in=ids), False

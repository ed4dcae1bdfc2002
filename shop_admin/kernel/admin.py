"""Admin of shops, warehouses, memberships and merchant tokens; the read-only and service-action shapes every app's admin uses."""
from collections.abc import Callable
from decimal import InvalidOperation
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.template.response import TemplateResponse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy
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


def confirmed_action(
    *, name: str, description, permission: str, form_class, template: str, rows: Callable[[Any], dict], context: dict,
    apply: Callable[[Any, Actor, dict], None], done,
):
    """An admin action applied only after a second confirmation: a page (`template`) with the selection
    (`rows(queryset)`), `context` and `form_class` (a tick among its fields); on its valid POST, `apply(record, actor,
    cleaned_data)` for each selected record as the platform, a refusal reported by record, and `done` (a message with
    %(n)d) for those applied."""

    @admin.action(description=description, permissions=[permission])
    def action(modeladmin, request, queryset):
        form = form_class(request.POST) if request.POST.get("post") else form_class()
        if request.POST.get("post") and form.is_valid():
            applied = 0
            for record in queryset:
                try:
                    apply(record, Actor.platform(request.user), form.cleaned_data)
                    applied += 1
                except (DomainError, InvalidOperation) as exc:
                    modeladmin.message_user(request, f"#{record.pk}: {getattr(exc, 'message', exc)}", messages.WARNING)
            if applied:
                modeladmin.message_user(request, str(done) % {"n": applied}, messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            template,
            {
                **modeladmin.admin_site.each_context(request),
                "title": description,
                **rows(queryset),
                "form": form,
                **context,
                "action_name": request.POST.get("action"),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "opts": modeladmin.model._meta,
            },
        )

    action.__name__ = name
    return action


class QueueFilter(admin.SimpleListFilter):
    """A list filter whose queue (the rows waiting for someone) is the default view, beside "all". A subclass gives
    `queue` (its value and label) and `queue_rows(queryset)`."""

    title = gettext_lazy("队列")
    parameter_name = "queue"
    queue: tuple[str, Any]

    def queue_rows(self, queryset):
        raise NotImplementedError

    def lookups(self, request, model_admin):
        return [self.queue, ("all", gettext_lazy("全部"))]

    def choices(self, changelist):
        value = self.value() or self.queue[0]
        for lookup, title in self.lookup_choices:
            yield {"selected": value == lookup, "query_string": changelist.get_query_string({self.parameter_name: lookup}), "display": title}

    def queryset(self, request, queryset):
        return self.queue_rows(queryset) if (self.value() or self.queue[0]) == self.queue[0] else queryset


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

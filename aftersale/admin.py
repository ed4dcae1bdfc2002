"""Platform arbitration in the Django admin: disputes by deadline, the whole case to read, and rulings through services;
review reports (评价申诉) kept or hidden the same way.

Nothing here edits a case: every field is read-only, and a ruling is an admin action
that asks for a second confirmation (a note, the compensation and the points, and a
tick) before it calls `aftersale_rule`. Only users with `arbitrate_aftersalecase`
(the `arbitrators` group) see the actions; the same group has `decide_reviewreport`.
"""
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersale.constants import AfterSaleStatus, Ruling
from aftersale.models import (
    AfterSaleCase,
    AfterSaleLine,
    AfterSaleMessage,
    BuyerMark,
    MerchantPenalty,
)
from aftersale.selectors import aftersale_timeline
from aftersale.services import aftersale_rule
from orders.events import order_event_kind_label
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.admin import LargeTableAdmin, QueueFilter, ReadOnlyAdmin, ReadOnlyInline, confirmed_action


class LineInline(ReadOnlyInline):
    model = AfterSaleLine
    fields = ["line", "quantity"]
    readonly_fields = ["line", "quantity"]

    def get_queryset(self, request):
        # each row is named by its order line and that line's order
        return super().get_queryset(request).select_related("line__order")


class MessageInline(ReadOnlyInline):
    model = AfterSaleMessage
    fields = ["created_at", "author", "author_label", "body", "evidence"]
    readonly_fields = fields


class DisputeFilter(QueueFilter):
    """Disputes first: the arbitrator's queue is the default view."""

    queue = ("disputes", gettext_lazy("待仲裁"))

    def queue_rows(self, queryset):
        return queryset.filter(status=AfterSaleStatus.ARBITRATING)


class RulingForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("仲裁说明"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))
    compensation = forms.DecimalField(label=gettext_lazy("保证金赔付买家（元）"), min_value=Decimal("0"), max_digits=10, decimal_places=2, initial=0, required=False)
    points = forms.IntegerField(label=gettext_lazy("商家扣分"), min_value=0, max_value=100, required=False)
    confirm = forms.BooleanField(label=gettext_lazy("我已核对订单、凭证与留言，确认裁决（不可撤销）"))


def _rule(ruling: str):
    def apply(case, actor: Actor, data: dict) -> None:
        compensation = data.get("compensation") or Decimal("0")
        aftersale_rule(
            case=case,
            actor=actor,
            ruling=ruling,
            note=data["note"],
            compensation=compensation if ruling == Ruling.FOR_BUYER else Decimal("0"),
            points=data.get("points"),
        )

    return apply


def _ruling_action(ruling: str, description):
    # The second confirmation: the same selection, the ruling's details, and a tick.
    return confirmed_action(
        name=f"rule_{ruling}",
        description=description,
        permission="arbitrate",
        form_class=RulingForm,
        template="admin/aftersale/ruling_confirm.html",
        rows=lambda queryset: {"cases": list(queryset.select_related("order", "shop"))},
        context={"ruling": ruling, "for_buyer": ruling == Ruling.FOR_BUYER},
        apply=_rule(ruling),
        done=gettext_lazy("已裁决 %(n)d 个售后单"),
    )


@admin.register(AfterSaleCase)
class AfterSaleCaseAdmin(LargeTableAdmin, ReadOnlyAdmin):
    # Read-only: the change page is where the arbitrator reads; nothing on it can be saved, rulings are actions.
    list_display = ["id", "order", "shop", "type", "status", "due_at", "amount", "arbitration_reason", "created_at"]
    list_filter = [DisputeFilter, "type", "status"]
    search_fields = ["order__order_no"]
    list_select_related = ["order", "shop"]
    ordering = ["due_at", "id"]
    show_full_result_count = False
    inlines = [LineInline, MessageInline]
    actions = [
        _ruling_action(Ruling.FOR_BUYER, gettext_lazy("裁决：支持买家（强制退款、保证金赔付、扣分）")),
        _ruling_action(Ruling.FOR_MERCHANT, gettext_lazy("裁决：支持商家（驳回申请、标记买家）")),
    ]
    fieldsets = [
        (gettext_lazy("售后"), {"fields": ["type", "status", "reason", "description", "amount", "evidence_images", "created_at", "due_at"]}),
        (gettext_lazy("订单"), {"fields": ["order_summary"]}),
        (gettext_lazy("商家处理"), {"fields": ["reject_reason", "reject_evidence_images", "return_address", "return_carrier",
                                            "return_tracking_no", "deductions", "refund_summary"]}),
        (gettext_lazy("仲裁"), {"fields": ["arbitration_reason", "appeal_deadline", "ruling", "ruling_note"]}),
        (gettext_lazy("时间线"), {"fields": ["timeline"]}),
    ]

    def has_arbitrate_permission(self, request) -> bool:
        return request.user.has_perm("aftersale.arbitrate_aftersalecase")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in AfterSaleCase._meta.fields] + [
            "evidence_images", "reject_evidence_images", "order_summary", "refund_summary", "timeline"
        ]

    @admin.display(description=gettext_lazy("买家凭证"))
    def evidence_images(self, case: AfterSaleCase):
        return images_html(case.evidence)

    @admin.display(description=gettext_lazy("商家凭证"))
    def reject_evidence_images(self, case: AfterSaleCase):
        return images_html(case.reject_evidence)

    @admin.display(description=gettext_lazy("订单"))
    def order_summary(self, case: AfterSaleCase):
        order = case.order
        lines = format_html_join(
            "", "<li>{} {} × {} = ¥{}</li>", ((ln.product_name, ln.spec, ln.quantity, ln.line_total) for ln in order.lines.all())
        )
        return format_html(
            '<a href="{}">{}</a> · {} · {} ¥{} · {}<ul>{}</ul>',
            reverse("admin:orders_order_change", args=[order.pk]), order.order_no, order.get_status_display(), _("实付"), order.paid_amount, case.shop.name, lines,
        )

    @admin.display(description=gettext_lazy("退款"))
    def refund_summary(self, case: AfterSaleCase):
        if not case.refund:
            return "-"
        return f"#{case.refund.pk} ¥{case.refund.amount} {case.refund.get_status_display()}"

    @admin.display(description=gettext_lazy("时间线"))
    def timeline(self, case: AfterSaleCase):
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "", "<li>{} · {} · {} {}</li>",
                ((date_format(timezone.localtime(e.created_at), "DATETIME_FORMAT"), order_event_kind_label(e.kind), e.actor_label, e.reason_text)
                 for e in aftersale_timeline(case=case)),
            ),
        )


def images_html(urls: list[str]):
    """Evidence or review images as thumbnails linking to each."""
    if not urls:
        return "-"
    return format_html_join(
        "", '<a href="{0}" target="_blank" rel="noopener"><img src="{0}" alt="" style="max-height:120px;margin:2px"></a>', ((u,) for u in urls)
    )


@admin.register(MerchantPenalty)
class MerchantPenaltyAdmin(ReadOnlyAdmin):
    list_display = ["shop", "case", "compensation", "points", "ruled_by", "created_at"]
    list_select_related = ["shop", "case", "ruled_by"]


@admin.register(BuyerMark)
class BuyerMarkAdmin(ReadOnlyAdmin):
    list_display = ["buyer", "case", "reason", "created_at"]
    list_select_related = ["buyer"]


from aftersale import admin_reviews  # noqa: E402,F401  review reports and reviews, registered in their own module

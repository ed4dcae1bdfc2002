"""Platform arbitration in the Django admin: disputes by deadline, the whole case to read, and rulings through services;
review reports (评价申诉) kept or hidden the same way.

Nothing here edits a case: every field is read-only, and a ruling is an admin action
that asks for a second confirmation (a note, the compensation and the points, and a
tick) before it calls `aftersale_rule`. Only users with `arbitrate_aftersalecase`
(the `arbitrators` group) see the actions; the same group has `decide_reviewreport`.
"""
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersale.constants import AfterSaleStatus, ReportStatus, Ruling
from aftersale.models import (
    AfterSaleCase,
    AfterSaleLine,
    AfterSaleMessage,
    BuyerMark,
    MerchantPenalty,
    ProductReview,
    ReviewReport,
)
from aftersale.selectors import aftersale_timeline
from aftersale.services import aftersale_rule
from aftersale.services.reviews import review_report_decide
from orders.events import order_event_kind_label
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.admin import LargeTableAdmin, ReadOnlyAdmin, ReadOnlyInline
from shop_admin.kernel.errors import DomainError


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


class DisputeFilter(admin.SimpleListFilter):
    """Disputes first: the arbitrator's queue is the default view."""

    title = gettext_lazy("队列")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("disputes", gettext_lazy("待仲裁")), ("all", gettext_lazy("全部"))]

    def choices(self, changelist):
        value = self.value() or "disputes"
        for lookup, title in self.lookup_choices:
            yield {"selected": value == lookup, "query_string": changelist.get_query_string({self.parameter_name: lookup}), "display": title}

    def queryset(self, request, queryset):
        if (self.value() or "disputes") == "disputes":
            return queryset.filter(status=AfterSaleStatus.ARBITRATING)
        return queryset


class RulingForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("仲裁说明"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))
    compensation = forms.DecimalField(label=gettext_lazy("保证金赔付买家（元）"), min_value=Decimal("0"), max_digits=10, decimal_places=2, initial=0, required=False)
    points = forms.IntegerField(label=gettext_lazy("商家扣分"), min_value=0, max_value=100, required=False)
    confirm = forms.BooleanField(label=gettext_lazy("我已核对订单、凭证与留言，确认裁决（不可撤销）"))


def _ruling_action(ruling: str, description):
    @admin.action(description=description, permissions=["arbitrate"])
    def action(modeladmin, request, queryset):
        form = RulingForm(request.POST) if request.POST.get("post") else RulingForm()
        if request.POST.get("post") and form.is_valid():
            done = 0
            for case in queryset:
                try:
                    compensation = form.cleaned_data.get("compensation") or Decimal("0")
                    aftersale_rule(
                        case=case,
                        actor=Actor.platform(request.user),
                        ruling=ruling,
                        note=form.cleaned_data["note"],
                        compensation=compensation if ruling == Ruling.FOR_BUYER else Decimal("0"),
                        points=form.cleaned_data.get("points"),
                    )
                    done += 1
                except (DomainError, InvalidOperation) as exc:
                    modeladmin.message_user(request, f"#{case.pk}: {getattr(exc, 'message', exc)}", messages.WARNING)
            if done:
                modeladmin.message_user(request, _("已裁决 %(n)d 个售后单") % {"n": done}, messages.SUCCESS)
            return None
        # The second confirmation: the same selection, the ruling's details, and a tick.
        return TemplateResponse(
            request,
            "admin/aftersale/ruling_confirm.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": description,
                "cases": list(queryset.select_related("order", "shop")),
                "form": form,
                "ruling": ruling,
                "for_buyer": ruling == Ruling.FOR_BUYER,
                "action_name": request.POST.get("action"),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "opts": modeladmin.model._meta,
            },
        )

    action.__name__ = f"rule_{ruling}"
    return action


@admin.register(AfterSaleCase)
class AfterSaleCaseAdmin(LargeTableAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The change page is where the arbitrator reads; nothing on it can be saved.
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in AfterSaleCase._meta.fields] + [
            "evidence_images", "reject_evidence_images", "order_summary", "refund_summary", "timeline"
        ]

    @admin.display(description=gettext_lazy("买家凭证"))
    def evidence_images(self, case: AfterSaleCase):
        return _images(case.evidence)

    @admin.display(description=gettext_lazy("商家凭证"))
    def reject_evidence_images(self, case: AfterSaleCase):
        return _images(case.reject_evidence)

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


def _images(urls: list[str]):
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


# --- review reports (评价申诉): the platform keeps or hides the review, with a second confirmation ---


class ReportQueueFilter(admin.SimpleListFilter):
    """Pending reports first: the queue is the default view."""

    title = gettext_lazy("队列")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("pending", gettext_lazy("待处理")), ("all", gettext_lazy("全部"))]

    def choices(self, changelist):
        value = self.value() or "pending"
        for lookup, title in self.lookup_choices:
            yield {"selected": value == lookup, "query_string": changelist.get_query_string({self.parameter_name: lookup}), "display": title}

    def queryset(self, request, queryset):
        if (self.value() or "pending") == "pending":
            return queryset.filter(status=ReportStatus.PENDING)
        return queryset


class ReviewDecisionForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("处理说明"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(label=gettext_lazy("我已核对评价与凭证，确认处理（不可撤销）"))


def _review_decision_action(hide: bool, description):
    @admin.action(description=description, permissions=["decide"])
    def action(modeladmin, request, queryset):
        form = ReviewDecisionForm(request.POST) if request.POST.get("post") else ReviewDecisionForm()
        if request.POST.get("post") and form.is_valid():
            done = 0
            for report in queryset:
                try:
                    review_report_decide(report=report, actor=Actor.platform(request.user), hide=hide, note=form.cleaned_data["note"])
                    done += 1
                except DomainError as exc:
                    modeladmin.message_user(request, f"#{report.pk}: {exc.message}", messages.WARNING)
            if done:
                modeladmin.message_user(request, _("已处理 %(n)d 条评价申诉") % {"n": done}, messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/aftersale/review_decision_confirm.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": description,
                "reports": list(queryset.select_related("review", "shop")),
                "form": form,
                "hide": hide,
                "action_name": request.POST.get("action"),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "opts": modeladmin.model._meta,
            },
        )

    action.__name__ = "review_hide" if hide else "review_keep"
    return action


@admin.register(ReviewReport)
class ReviewReportAdmin(LargeTableAdmin):
    list_display = ["id", "shop", "reason", "status", "review_rating", "review_text", "created_at", "decided_at"]
    list_filter = [ReportQueueFilter, "reason", "status"]
    list_select_related = ["shop", "review"]
    ordering = ["created_at", "id"]
    actions = [
        _review_decision_action(True, gettext_lazy("处理：隐藏评价（不再计入评分）")),
        _review_decision_action(False, gettext_lazy("处理：保留评价")),
    ]
    fieldsets = [
        (gettext_lazy("申诉"), {"fields": ["shop", "reason", "description", "evidence_images", "reported_by", "created_at", "status"]}),
        (gettext_lazy("评价"), {"fields": ["review_summary"]}),
        (gettext_lazy("处理"), {"fields": ["decided_by", "decided_at", "decision_note"]}),
    ]

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm("aftersale.decide_reviewreport")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in ReviewReport._meta.fields] + ["evidence_images", "review_summary"]

    @admin.display(description=gettext_lazy("评分"))
    def review_rating(self, report: ReviewReport):
        return report.review.rating

    @admin.display(description=gettext_lazy("评价内容"))
    def review_text(self, report: ReviewReport):
        return report.review.text[:60]

    @admin.display(description=gettext_lazy("商家凭证"))
    def evidence_images(self, report: ReviewReport):
        return _images(report.evidence)

    @admin.display(description=gettext_lazy("评价"))
    def review_summary(self, report: ReviewReport):
        review = report.review
        return format_html(
            "{}★ · {} · {} · {}<p>{}</p>{}",
            review.rating, review.order.order_no, review.line.product_name, review.created_at.strftime("%Y-%m-%d %H:%M"),
            review.text, _images(review.images),
        )


@admin.register(ProductReview)
class ProductReviewAdmin(LargeTableAdmin, ReadOnlyAdmin):
    list_display = ["id", "shop", "product", "rating", "text", "hidden_at", "created_at"]
    list_select_related = ["shop", "product"]
    list_filter = ["rating"]

"""Review reports (评价申诉) in the Django admin: the platform keeps or hides the review, with a second confirmation."""
from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from aftersale.admin import images_html
from aftersale.constants import ReportStatus
from aftersale.models import ProductReview, ReviewReport
from aftersale.services.reviews import review_report_decide
from shop_admin.kernel.admin import LargeTableAdmin, QueueFilter, ReadOnlyAdmin, confirmed_action

# --- review reports (评价申诉): the platform keeps or hides the review, with a second confirmation ---


class ReportQueueFilter(QueueFilter):
    """Pending reports first: the queue is the default view."""

    queue = ("pending", gettext_lazy("待处理"))

    def queue_rows(self, queryset):
        return queryset.filter(status=ReportStatus.PENDING)


class ReviewDecisionForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("处理说明"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(label=gettext_lazy("我已核对评价与凭证，确认处理（不可撤销）"))


def _review_decision_action(hide: bool, description):
    return confirmed_action(
        name="review_hide" if hide else "review_keep",
        description=description,
        permission="decide",
        form_class=ReviewDecisionForm,
        template="admin/aftersale/review_decision_confirm.html",
        rows=lambda queryset: {"reports": list(queryset.select_related("review", "shop"))},
        context={"hide": hide},
        apply=lambda report, actor, data: review_report_decide(report=report, actor=actor, hide=hide, note=data["note"]),
        done=gettext_lazy("已处理 %(n)d 条评价申诉"),
    )


@admin.register(ReviewReport)
class ReviewReportAdmin(LargeTableAdmin, ReadOnlyAdmin):
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
        return images_html(report.evidence)

    @admin.display(description=gettext_lazy("评价"))
    def review_summary(self, report: ReviewReport):
        review = report.review
        return format_html(
            "{}★ · {} · {} · {}<p>{}</p>{}",
            review.rating, review.order.order_no, review.line.product_name, review.created_at.strftime("%Y-%m-%d %H:%M"),
            review.text, images_html(review.images),
        )


@admin.register(ProductReview)
class ProductReviewAdmin(LargeTableAdmin, ReadOnlyAdmin):
    list_display = ["id", "shop", "product", "rating", "text", "hidden_at", "created_at"]
    list_select_related = ["shop", "product"]
    list_filter = ["rating"]

"""The exports page: orders, settlements and after-sale cases as CSV jobs, composed from the apps that own them."""
from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orders.constants import OrderStatus
from orders.exports import order_filters_to_params
from orders.selectors import OrderFilters
from shop_admin.kernel.background import background_job_start
from shop_admin.kernel.console import forbidden, request_perms, shop_required
from shop_admin.kernel.permissions import Perm
from shop_admin.kernel.selectors import background_jobs_of_kind

# What can be exported: its label, the job kind it runs, and who may (the form offers a kind only to them).
EXPORTS = {
    "orders": (gettext_lazy("订单"), "orders_export", Perm.ORDER_VIEW),
    "settlements": (gettext_lazy("结算单"), "settlements_export", Perm.FINANCE_VIEW),
    "aftersales": (gettext_lazy("售后单"), "aftersale_export", Perm.AFTERSALE),
}


def export_job_perm(kind: str) -> str | None:
    """Who may see and download an export job of this kind (a settlements file is money: not every role's)."""
    return next((perm for _label, job_kind, perm in EXPORTS.values() if job_kind == kind), None)


class ExportForm(forms.Form):
    what = forms.ChoiceField(label=gettext_lazy("导出内容"))
    status = forms.ChoiceField(label=gettext_lazy("订单状态"), required=False, choices=[("", gettext_lazy("全部"))] + OrderStatus.choices)
    created_from = forms.DateField(label=gettext_lazy("起"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(label=gettext_lazy("止"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    # Orders only; offered to the roles that may reveal contact details (抖店 exports 密文 by default).
    full_contact = forms.BooleanField(label=gettext_lazy("导出明文（完整收件人、手机号和地址，将记录日志）"), required=False)

    def __init__(self, *args, perms: frozenset[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["what"].choices = [(what, label) for what, (label, _kind, perm) in EXPORTS.items() if perm in perms]
        if Perm.CONTACT_REVEAL not in perms:
            del self.fields["full_contact"]

    def clean(self):
        data = super().clean()
        if data.get("created_from") and data.get("created_to") and data["created_from"] > data["created_to"]:
            self.add_error("created_to", _("结束日期不能早于开始日期"))
        return data


@shop_required
def exports_view(request):
    perms = request_perms(request)
    asked = EXPORTS.get(request.POST.get("what", ""))
    if asked and asked[2] not in perms:
        return forbidden(request, _("您的角色无权导出此内容"))
    if request.method == "POST" and request.POST.get("full_contact") and Perm.CONTACT_REVEAL not in perms:
        return forbidden(request, _("您的角色无权导出完整的收件人信息"))
    form = ExportForm(request.POST or None, perms=perms)
    if request.method == "POST" and form.is_valid():
        _label, kind, _perm = EXPORTS[form.cleaned_data["what"]]
        filters = OrderFilters(
            status=form.cleaned_data.get("status") or None,
            created_from=form.cleaned_data.get("created_from"),
            created_to=form.cleaned_data.get("created_to"),
        )
        params = {"filters": order_filters_to_params(filters), "full_contact": bool(form.cleaned_data.get("full_contact"))}
        job = background_job_start(shop=request.shop, user=request.user, kind=kind, total=0, params=params)
        return redirect("job_detail", job_id=job.pk)
    if request.method == "POST":
        messages.error(request, _("导出条件有误"))
    kinds = [kind for _label, kind, perm in EXPORTS.values() if perm in perms]
    jobs = background_jobs_of_kind(shop_id=request.shop.pk, kinds=kinds + ["orders_export_selected"])
    return render(request, "shop_admin/exports.html", {"form": form, "jobs": jobs})

"""Forms of the after-sale workbench (the list's filters, one form per merchant action), the reviews page and the rules."""
from django import forms
from django.utils.translation import gettext_lazy as _

from aftersale.constants import (
    REFUND_TYPES,
    AfterSaleStatus,
    AfterSaleType,
    MerchantAction,
    ReportReason,
    RuleAction,
    RuleOrderState,
)
from logistics.constants import Carrier


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部"))] + AfterSaleStatus.choices)
    type = forms.ChoiceField(label=_("售后类型"), required=False, choices=[("", _("全部"))] + AfterSaleType.choices)
    order = forms.CharField(label=_("订单号"), required=False, max_length=32)
    cursor = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def clean_order(self) -> str:
        value = self.cleaned_data["order"].strip()
        if value and not value.isdigit():
            raise forms.ValidationError(_("订单号只含数字"))
        return value


def _urls(text: str) -> list[str]:
    urls = [line.strip() for line in (text or "").splitlines() if line.strip()]
    for url in urls:
        if not url.startswith(("http://", "https://")) or len(url) > 500:
            raise forms.ValidationError(_("凭证须为 http(s) 链接，每行一个"))
    if len(urls) > 9:
        raise forms.ValidationError(_("最多9个凭证"))
    return urls


class OperateForm(forms.Form):
    """Every action posts here; the fields it does not need stay empty and the service checks the ones it does."""

    action = forms.ChoiceField(choices=MerchantAction.choices)
    reason = forms.CharField(label=_("原因"), required=False, max_length=200)
    message = forms.CharField(label=_("留言"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    evidence = forms.CharField(label=_("凭证链接（每行一个）"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    return_address_id = forms.IntegerField(label=_("退货地址"), required=False, min_value=1, max_value=2**63 - 1)
    carrier = forms.ChoiceField(label=_("快递公司"), required=False, choices=[("", "—")] + Carrier.choices)
    tracking_no = forms.CharField(label=_("快递单号"), required=False, max_length=40)
    deduction_reason_1 = forms.CharField(required=False, max_length=100)
    deduction_amount_1 = forms.CharField(required=False, max_length=20)
    deduction_reason_2 = forms.CharField(required=False, max_length=100)
    deduction_amount_2 = forms.CharField(required=False, max_length=20)

    def clean_evidence(self) -> list[str]:
        return _urls(self.cleaned_data["evidence"])

    def deductions(self) -> list[dict]:
        rows = []
        for n in (1, 2):
            reason, amount = self.cleaned_data.get(f"deduction_reason_{n}", ""), self.cleaned_data.get(f"deduction_amount_{n}", "")
            if reason or amount:
                rows.append({"reason": reason, "amount": amount})
        return rows


class ReturnAddressForm(forms.Form):
    """One address of the return address book; the rules (division tree, mobile number) are the service's, as for orders."""

    name = forms.CharField(label=_("收件人"), max_length=40)
    phone = forms.CharField(label=_("手机号"), max_length=11)
    province = forms.CharField(label=_("省"), max_length=30)
    city = forms.CharField(label=_("市"), max_length=30)
    district = forms.CharField(label=_("区"), max_length=30)
    detail = forms.CharField(label=_("详细地址"), max_length=200, widget=forms.TextInput(attrs={"size": 50}))
    is_default = forms.BooleanField(label=_("设为默认退货地址"), required=False)


# --- reviews (/reviews/) ---


class ReviewFilterForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("评分"), required=False, coerce=int, empty_value=None, choices=[("", _("全部"))] + [(n, f"{n}★") for n in range(5, 0, -1)]
    )
    rating_max = forms.TypedChoiceField(
        label=_("差评"), required=False, coerce=int, empty_value=None, choices=[("", _("全部")), (2, _("差评（2星及以下）"))]
    )
    with_images = forms.NullBooleanField(label=_("有图"), required=False, widget=forms.Select(choices=[("", _("全部")), ("1", _("有图")), ("0", _("无图"))]))
    replied = forms.NullBooleanField(label=_("回复"), required=False, widget=forms.Select(choices=[("", _("全部")), ("1", _("已回复")), ("0", _("未回复"))]))
    sku = forms.CharField(label=_("SKU编码"), required=False, max_length=64)
    created_from = forms.DateField(label=_("评价日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    review = forms.IntegerField(required=False, min_value=1, max_value=2**62, widget=forms.HiddenInput)
    cursor = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)


class ReviewReplyForm(forms.Form):
    text = forms.CharField(label=_("回复内容"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class ReviewReportForm(forms.Form):
    reason = forms.ChoiceField(label=_("申诉原因"), choices=ReportReason.choices)
    description = forms.CharField(label=_("申诉说明"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    evidence = forms.CharField(label=_("凭证链接（每行一个）"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_evidence(self) -> list[str]:
        return _urls(self.cleaned_data["evidence"])


class RuleForm(forms.Form):
    """An after-sale rule as the console edits it; `rule_clean` checks the values (the API's checks), named per field."""

    name = forms.CharField(label=_("规则名称"), max_length=60)
    types = forms.MultipleChoiceField(
        label=_("售后类型"), choices=[c for c in AfterSaleType.choices if c[0] in REFUND_TYPES], widget=forms.CheckboxSelectMultiple
    )
    order_states = forms.MultipleChoiceField(label=_("申请时订单状态"), choices=RuleOrderState.choices, widget=forms.CheckboxSelectMultiple)
    max_amount = forms.CharField(label=_("金额上限（元）"), max_length=20)
    reasons = forms.CharField(
        label=_("售后原因（每行一个，留空为任意原因）"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    action = forms.ChoiceField(label=_("处理方式"), choices=RuleAction.choices, widget=forms.RadioSelect, initial=RuleAction.AGREE)
    enabled = forms.BooleanField(label=_("启用"), required=False)
    days = forms.IntegerField(label=_("试运行天数"), min_value=1, max_value=90, initial=30, required=False)

    def rule_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in ("name", "types", "order_states", "max_amount", "action", "enabled")}
        data["reasons"] = [line.strip() for line in self.cleaned_data["reasons"].splitlines() if line.strip()]
        return data

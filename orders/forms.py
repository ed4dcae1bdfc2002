"""Console forms of orders and products: they check input and name the field; services do the rest."""
from django import forms
from django.utils.translation import gettext_lazy as _

from orders.constants import ExceptionKind, OrderStatus
from orders.selectors import OrderFilters
from orders.services.products import presale_deposit_ratio_refusal
from orders.services.reconciliation import reconciliation_day_refusal
from shop_admin.kernel.widgets import FastDateInput, FastSelect

PER_PAGE_CHOICES = [(20, "20"), (50, "50"), (100, "100")]


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("订单状态"), required=False, choices=[("", _("全部"))] + OrderStatus.choices,
                               widget=FastSelect)
    q = forms.CharField(label=_("搜索"), required=False, max_length=60,
                        widget=forms.TextInput(attrs={"placeholder": _("订单号 / 手机号 / 快递单号 / 商品名称"), "type": "search"}))
    created_from = forms.DateField(label=_("下单起"), required=False, widget=FastDateInput(attrs={"type": "date"}))
    created_to = forms.DateField(label=_("下单止"), required=False, widget=FastDateInput(attrs={"type": "date"}))
    exception = forms.ChoiceField(
        label=_("异常"), required=False, choices=[("", _("不限")), ("any", _("有未处理异常"))] + ExceptionKind.choices,
        widget=FastSelect,
    )
    sort = forms.ChoiceField(label=_("排序"), required=False, choices=[("created", _("下单时间")), ("paid", _("支付时间"))], widget=FastSelect)
    ship_due = forms.ChoiceField(
        label=_("发货时效"), required=False, choices=[("", _("不限")), ("soon", _("即将超时发货")), ("overdue", _("已超时发货"))],
        widget=FastSelect,
    )
    per_page = forms.TypedChoiceField(label=_("每页"), required=False, coerce=int, choices=PER_PAGE_CHOICES, empty_value=20,
                                       widget=FastSelect)
    page = forms.IntegerField(required=False, min_value=1, max_value=100000, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", _("结束日期不能早于开始日期"))
        return data

    def filters(self) -> OrderFilters:
        data = self.cleaned_data
        return OrderFilters(
            status=data.get("status") or None,
            q=(data.get("q") or "").strip(),
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
            exception=data.get("exception") or None,
            sort=data.get("sort") or "created",
            ship_due=data.get("ship_due") or "",
        )


class RemarkForm(forms.Form):
    remark = forms.CharField(label=_("商家备注"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    flag = forms.TypedChoiceField(
        label=_("旗帜"),
        coerce=int,
        choices=[(0, _("无")), (1, _("红")), (2, _("黄")), (3, _("绿")), (4, _("蓝")), (5, _("紫"))],
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200)
    confirm = forms.BooleanField(label=_("我已确认此操作"), required=False)


class StockForm(forms.Form):
    on_hand = forms.IntegerField(label=_("货架库存"), min_value=0, max_value=10_000_000)
    force = forms.BooleanField(label=_("确认强制修改（会标记超卖订单）"), required=False)


class ProductSettingsForm(forms.Form):
    """Presale and delivery-area settings of a product."""

    is_presale = forms.BooleanField(label=_("预售"), required=False)
    presale_deposit_ratio = forms.DecimalField(label=_("定金比例"), required=False, max_digits=4, decimal_places=2)
    presale_balance_due = forms.DateTimeField(
        label=_("尾款截止"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    presale_ship_days = forms.IntegerField(label=_("付尾款后几天内发货"), required=False, min_value=1, max_value=90)
    excluded_regions = forms.MultipleChoiceField(label=_("不配送地区"), required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, provinces: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["excluded_regions"].choices = [(p, p) for p in provinces]

    def clean_presale_deposit_ratio(self):
        ratio = self.cleaned_data["presale_deposit_ratio"]
        refusal = None if ratio is None else presale_deposit_ratio_refusal(ratio)
        if refusal:
            raise forms.ValidationError(refusal)
        return ratio

    def clean(self):
        data = super().clean()
        if data.get("is_presale"):
            for field in ("presale_deposit_ratio", "presale_balance_due", "presale_ship_days"):
                if data.get(field) in (None, ""):
                    self.add_error(field, _("预售商品必须填写"))
        return data


class CouponForm(forms.Form):
    """A coupon campaign's terms; the platform's rules (amount under threshold and cap, the window) are the service's."""

    name = forms.CharField(label=_("名称"), max_length=60)
    scope = forms.ChoiceField(label=_("范围"), choices=[("shop", _("全店")), ("skus", _("指定SKU"))], widget=forms.RadioSelect,
                              initial="shop")
    sku_ids = forms.MultipleChoiceField(label=_("适用SKU"), required=False, widget=forms.CheckboxSelectMultiple)
    threshold = forms.CharField(label=_("使用门槛（元）"), max_length=20)
    discount_type = forms.ChoiceField(
        label=_("优惠方式"), choices=[("amount", _("满减（减固定金额）")), ("rate", _("折扣（打折）"))], widget=forms.RadioSelect, initial="amount",
        required=False,
    )
    amount = forms.CharField(label=_("面额（元）"), max_length=20, required=False, help_text=_("满减券填写"))
    rate = forms.CharField(label=_("折扣（折）"), max_length=10, required=False, help_text=_("折扣券填写：0.1到9.9折，如 8.5 折即按原价的0.85付款"))
    max_discount = forms.CharField(
        label=_("最多减（元）"), max_length=20, required=False, help_text=_("折扣券可填；不填则按平台上限")
    )
    valid_from = forms.DateTimeField(label=_("生效时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    valid_to = forms.DateTimeField(label=_("失效时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    total_quantity = forms.IntegerField(label=_("发行总量"), min_value=1, max_value=1_000_000)
    per_buyer_limit = forms.IntegerField(label=_("每人限领"), min_value=1, max_value=100, initial=1)

    def __init__(self, *args, skus, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sku_ids"].choices = [(str(s.pk), f"{s.product.name} {s.spec} ({s.code})") for s in skus]

    def clean_discount_type(self) -> str:
        return self.cleaned_data.get("discount_type") or "amount"  # a form posted before rate coupons existed


class ReconcileDayForm(forms.Form):
    """The day a shop asks to reconcile now (the page offers yesterday in shop time)."""

    day = forms.DateField(label=_("对账日期"), widget=FastDateInput(attrs={"type": "date"}))

    def clean_day(self):
        day = self.cleaned_data["day"]
        if refusal := reconciliation_day_refusal(day):
            raise forms.ValidationError(refusal.message)
        return day

"""Console forms of logistics."""
from django import forms
from django.utils.translation import gettext_lazy as _

from logistics.constants import Carrier, ShipmentStatus


class ShipForm(forms.Form):
    carrier = forms.ChoiceField(label=_("快递公司"), choices=Carrier.choices)
    tracking_no = forms.CharField(label=_("快递单号"), max_length=40)
    door_delivery = forms.BooleanField(label=_("音尊达"), required=False)
    add_parcel = forms.BooleanField(required=False)  # the order page's "add parcel" form of a shipped order


class NotReceivedAnswerForm(forms.Form):
    note = forms.CharField(label=_("举证说明"), max_length=300)
    evidence = forms.CharField(label=_("凭证链接"), max_length=3000, widget=forms.Textarea)

    def evidence_urls(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["evidence"].splitlines() if line.strip()]


class ShipmentFilterForm(forms.Form):
    """The /logistics/ filters; a bad value is dropped rather than refused (it is a bookmark, not an action)."""

    carrier = forms.ChoiceField(label=_("快递公司"), choices=[("", _("全部"))] + Carrier.choices, required=False)
    status = forms.ChoiceField(label=_("状态"), choices=[("", _("全部"))] + ShipmentStatus.choices, required=False)
    stalled = forms.BooleanField(label=_("只看停滞"), required=False)
    at_risk = forms.BooleanField(label=_("只看有停滞风险"), required=False)
    shipped_from = forms.DateField(label=_("发货日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    shipped_to = forms.DateField(label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(label=_("快递单号/订单号"), max_length=40, required=False)
    page = forms.IntegerField(min_value=1, max_value=1000, required=False)

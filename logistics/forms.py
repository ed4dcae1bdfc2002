"""Console forms of logistics."""
from django import forms
from django.utils.translation import gettext_lazy as _

from logistics.constants import Carrier


class ShipForm(forms.Form):
    carrier = forms.ChoiceField(label=_("快递公司"), choices=Carrier.choices)
    tracking_no = forms.CharField(label=_("快递单号"), max_length=40)

"""Template tags of logistics for pages of other apps: the carrier choices of a ship form."""
from django import template

from logistics.constants import Carrier

register = template.Library()


@register.simple_tag
def carrier_choices() -> list[tuple[str, str]]:
    return Carrier.choices

"""The /settings/ index: one link per settings section the role may open (return addresses first)."""
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from shop_admin.kernel.console import shop_required

# Each section is its own page (and view, with its own permission); the index only lists them, so a section is added here
# with one line and its link is drawn only for the roles its view lets in ({% may_open %}).
SETTINGS_SECTIONS = [
    {"label": _("退货地址"), "url": "/settings/return-addresses/", "help": _("同意退货时发给买家的地址，一个默认")},
]


@shop_required
def settings_index_view(request):
    return render(request, "shop_admin/settings.html", {"sections": SETTINGS_SECTIONS})

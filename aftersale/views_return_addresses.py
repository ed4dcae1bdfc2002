"""Console pages of the return address book under /settings/: the shop's addresses, add, change, make default, remove."""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersale.forms import ReturnAddressForm
from aftersale.selectors import return_address_get_for_shops, return_addresses_for_shops
from aftersale.services.return_addresses import (
    return_address_create,
    return_address_delete,
    return_address_update,
)
from shop_admin.kernel.console import shop_record_or_404, shop_required
from shop_admin.kernel.errors import DomainError
from shop_admin.kernel.permissions import Perm
from shop_admin.kernel.text import domain_error_text

ADDRESS_FIELDS = ("name", "phone", "province", "city", "district", "detail")


def _shop_address(request, address_id: int):
    return shop_record_or_404(request, lambda shop_ids: return_address_get_for_shops(shop_ids=shop_ids, address_id=address_id))


def _refused(form: ReturnAddressForm, exc: DomainError) -> None:
    # Each field the service named is marked on its input; anything else heads the form.
    fields = exc.details.get("fields") or {}
    named = {field: reason for field, reason in fields.items() if field in form.fields and isinstance(reason, str)}
    for field, reason in named.items():
        form.add_error(field, reason)
    if not named:
        form.add_error(None, domain_error_text(exc, labels=form))


def _address_data(form: ReturnAddressForm) -> dict:
    return {name: form.cleaned_data[name] for name in ADDRESS_FIELDS}


@shop_required(perm=Perm.RETURN_ADDRESSES)
def return_address_list_view(request):
    """GET: the book and an empty form; POST: add the address typed (the form comes back with its input when refused)."""
    form = ReturnAddressForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            return_address_create(shop=request.shop, data=_address_data(form), is_default=form.cleaned_data["is_default"])
        except DomainError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("退货地址已添加"))
            return redirect("return_addresses:list")
    addresses = return_addresses_for_shops(shop_ids={request.shop.pk})
    return render(request, "aftersale/return_addresses.html", {"form": form, "addresses": addresses})


@shop_required(perm=Perm.RETURN_ADDRESSES)
def return_address_edit_view(request, address_id: int):
    address = _shop_address(request, address_id)
    if request.method == "POST":
        form = ReturnAddressForm(request.POST)
        if form.is_valid():
            try:
                # An unticked box leaves the default as it is: the default moves only by naming another one.
                return_address_update(address=address, data=_address_data(form), is_default=form.cleaned_data["is_default"] or None)
            except DomainError as exc:
                _refused(form, exc)
            else:
                messages.success(request, _("退货地址已保存"))
                return redirect("return_addresses:list")
    else:
        form = ReturnAddressForm(initial={**{name: getattr(address, name) for name in ADDRESS_FIELDS}, "is_default": address.is_default})
    return render(request, "aftersale/return_address_edit.html", {"form": form, "address": address})


@require_POST
@shop_required(perm=Perm.RETURN_ADDRESSES)
def return_address_default_view(request, address_id: int):
    address = _shop_address(request, address_id)
    data = {name: getattr(address, name) for name in ADDRESS_FIELDS}
    try:
        return_address_update(address=address, data=data, is_default=True)
    except DomainError as exc:  # an address stored before today's rules: it must be corrected first
        messages.error(request, domain_error_text(exc))
    else:
        messages.success(request, _("已设为默认退货地址"))
    return redirect("return_addresses:list")


@require_POST
@shop_required(perm=Perm.RETURN_ADDRESSES)
def return_address_delete_view(request, address_id: int):
    return_address_delete(address=_shop_address(request, address_id))
    messages.success(request, _("退货地址已删除"))
    return redirect("return_addresses:list")

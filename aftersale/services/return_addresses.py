"""The shop's return address book (退货地址库): add, change, remove, one default, and the address an agreed return uses."""
from django.db import transaction
from django.utils.translation import gettext as _

from aftersale.models import ReturnAddress
from orders.addresses import address_validate
from shop_admin.kernel.errors import Invalid, NotFound
from shop_admin.kernel.models import Shop

RETURN_ADDRESSES_URL = "/settings/return-addresses/"
# 抖店's own book stops at 20; the list is read whole on every agree form and API call.
RETURN_ADDRESS_LIMIT = 20


def _shop_lock(shop_id: int) -> None:
    # Every change of a shop's book takes the shop's row first: two clerks setting two defaults at once queue here
    # instead of one of them meeting the unique index as a 500.
    Shop.objects.select_for_update().only("pk").get(pk=shop_id)


def _fields(data: dict) -> dict:
    return address_validate(data).as_dict()


def return_address_create(*, shop: Shop, data: dict, is_default: bool = False) -> ReturnAddress:
    """Add an address; the shop's first one is its default whatever was asked, so a shop with addresses always has one."""
    fields = _fields(data)
    with transaction.atomic():
        _shop_lock(shop.pk)
        existing = ReturnAddress.objects.filter(shop_id=shop.pk)
        if existing.count() >= RETURN_ADDRESS_LIMIT:
            raise Invalid(
                _("退货地址最多%(n)d个") % {"n": RETURN_ADDRESS_LIMIT}, code="return_address_limit",
                details={"fields": {"shop_id": _("退货地址最多%(n)d个") % {"n": RETURN_ADDRESS_LIMIT}}},
            )
        is_default = is_default or not existing.exists()
        if is_default:
            existing.filter(is_default=True).update(is_default=False)
        return ReturnAddress.objects.create(shop_id=shop.pk, is_default=is_default, **fields)


def return_address_update(*, address: ReturnAddress, data: dict, is_default: bool | None = None) -> ReturnAddress:
    """Change an address; `is_default=True` makes it the default (the old one loses it), None leaves that as it is."""
    fields = _fields(data)
    with transaction.atomic():
        _shop_lock(address.shop_id)
        address = ReturnAddress.objects.get(pk=address.pk)
        if is_default is False and address.is_default:
            raise Invalid(
                _("不能取消默认退货地址，请把另一个地址设为默认"), code="invalid_input",
                details={"fields": {"is_default": _("须另设一个默认地址")}},
            )
        if is_default and not address.is_default:
            ReturnAddress.objects.filter(shop_id=address.shop_id, is_default=True).update(is_default=False)
            address.is_default = True
        for name, value in fields.items():
            setattr(address, name, value)
        address.save()
        return address


def return_address_delete(*, address: ReturnAddress) -> None:
    """Remove an address; when it was the default, the oldest one left becomes the default.

    Cases keep the text they were sent, so removing an address changes no case.
    """
    with transaction.atomic():
        _shop_lock(address.shop_id)
        deleted, _rows = ReturnAddress.objects.filter(pk=address.pk).delete()
        if deleted and address.is_default:
            heir = ReturnAddress.objects.filter(shop_id=address.shop_id).order_by("id").first()
            if heir is not None:
                heir.is_default = True
                heir.save(update_fields=["is_default", "updated_at"])


def return_address_default(*, shop_id: int) -> ReturnAddress | None:
    return ReturnAddress.objects.filter(shop_id=shop_id, is_default=True).first()


def return_address_pick(*, shop_id: int, address_id: int | None = None) -> ReturnAddress:
    """The address an agreed return is sent to: the one named (of this shop only), else the shop's default.

    A shop with none is refused with a link to add one: a return cannot be agreed without somewhere to send it.
    """
    if address_id is not None:
        address = ReturnAddress.objects.filter(shop_id=shop_id, pk=address_id).first()
        if address is None:  # another shop's, or none: the same answer
            raise NotFound(_("退货地址不存在"), code="return_address_not_found", details={"fields": {"return_address_id": address_id}})
        return address
    address = return_address_default(shop_id=shop_id)
    if address is None:
        raise Invalid(
            _("店铺还没有退货地址，请先添加退货地址"), code="return_address_required",
            details={"fields": {"return_address_id": _("请先添加退货地址")}, "url": RETURN_ADDRESSES_URL},
        )
    return address

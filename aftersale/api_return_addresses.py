"""JSON endpoints of the return address book: merchants list, add, change and remove their shops' return addresses."""
from django.utils.translation import gettext as _
from ninja import Field, Router, Status

from aftersale.models import ReturnAddress
from aftersale.selectors import return_address_get_for_shops, return_addresses_for_shops
from aftersale.services.return_addresses import return_address_create, return_address_delete, return_address_update
from shop_admin.kernel.api import ERRORS, MerchantAuth, RowId, Schema, time_str
from shop_admin.kernel.errors import NotFound
from shop_admin.kernel.permissions import Perm, require_perm, user_can
from shop_admin.kernel.selectors import shop_get, user_shop_ids
from shop_admin.kernel.throttling import rate_limited

merchant_router = Router(auth=MerchantAuth(), tags=["merchant return addresses"])

ADDRESS_FIELDS = ("name", "phone", "province", "city", "district", "detail")


class ReturnAddressIn(Schema):
    # Lengths are checked by address_validate, which names the field in Chinese or English; here only a sane bound.
    name: str = Field(..., max_length=200)
    phone: str = Field(..., max_length=200)
    province: str = Field(..., max_length=200)
    city: str = Field(..., max_length=200)
    district: str = Field(..., max_length=200)
    detail: str = Field(..., max_length=500)
    is_default: bool = False


class ReturnAddressCreateIn(ReturnAddressIn):
    shop_id: RowId


class ReturnAddressUpdateIn(ReturnAddressIn):
    is_default: bool | None = Field(None, description="true: make it the default; omitted: unchanged")


class ReturnAddressOut(Schema):
    return_address_id: int
    shop_id: int
    name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    is_default: bool
    text: str
    updated_at: str


class ReturnAddressListOut(Schema):
    return_addresses: list[ReturnAddressOut]


def return_address_out(address: ReturnAddress) -> dict:
    return {
        "return_address_id": address.pk,
        "shop_id": address.shop_id,
        **{name: getattr(address, name) for name in ADDRESS_FIELDS},
        "is_default": address.is_default,
        "text": address.text,
        "updated_at": time_str(address.updated_at),
    }


def _address(request, return_address_id: int) -> ReturnAddress:
    address = return_address_get_for_shops(shop_ids=user_shop_ids(user=request.auth), address_id=return_address_id)
    require_perm(user=request.auth, shop_id=address.shop_id, perm=Perm.RETURN_ADDRESSES)
    return address


@merchant_router.get("/return-addresses", response={200: ReturnAddressListOut, **ERRORS}, **rate_limited("merchant_list"))
def merchant_return_addresses(request, shop_id: RowId | None = None):
    user = request.auth
    shop_ids = {pk for pk in user_shop_ids(user=user) if user_can(user=user, shop_id=pk, perm=Perm.RETURN_ADDRESSES)}
    if shop_id is not None:
        shop_ids &= {shop_id}
    return {"return_addresses": [return_address_out(a) for a in return_addresses_for_shops(shop_ids=shop_ids)]}


@merchant_router.post("/return-addresses", response={201: ReturnAddressOut, **ERRORS})
def merchant_return_address_create(request, payload: ReturnAddressCreateIn):
    if payload.shop_id not in user_shop_ids(user=request.auth):
        raise NotFound(_("店铺不存在"), code="shop_not_found")  # another shop's, or none: the same answer
    require_perm(user=request.auth, shop_id=payload.shop_id, perm=Perm.RETURN_ADDRESSES)
    address = return_address_create(
        shop=shop_get(shop_id=payload.shop_id), data=payload.model_dump(include=set(ADDRESS_FIELDS)), is_default=payload.is_default
    )
    return Status(201, return_address_out(address))


@merchant_router.put("/return-addresses/{return_address_id}", response={200: ReturnAddressOut, **ERRORS})
def merchant_return_address_update(request, return_address_id: RowId, payload: ReturnAddressUpdateIn):
    address = return_address_update(
        address=_address(request, return_address_id),
        data=payload.model_dump(include=set(ADDRESS_FIELDS)),
        is_default=payload.is_default,
    )
    return return_address_out(address)


@merchant_router.delete("/return-addresses/{return_address_id}", response={204: None, **ERRORS})
def merchant_return_address_delete(request, return_address_id: RowId):
    return_address_delete(address=_address(request, return_address_id))
    return Status(204, None)

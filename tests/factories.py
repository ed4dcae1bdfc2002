"""Test data built the way the product builds it: plain functions with sensible defaults."""
import hashlib
import hmac
import itertools
import json
import time
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from aftersale.models import ReturnAddress
from orders.models import Buyer, Coupon, Product, Sku, StockLevel
from shop_admin.kernel.constants import Role
from shop_admin.kernel.models import Membership, MerchantApiToken, Shop, Warehouse

_seq = itertools.count(1)

ADDRESS = {
    "name": "张三",
    "phone": "13800138000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "detail": "文三路478号华星时代广场A座1201",
}


RETURN_ADDRESS = {"name": "退货组", "phone": "13900000000", "province": "浙江省", "city": "杭州市", "district": "西湖区", "detail": "杭州仓 文三路1号"}


def make_shop(
    name: str | None = None, *, warehouses: tuple[tuple[str, str], ...] = (("杭州仓", "浙江省"),), return_address: bool = True
) -> Shop:
    """A shop with its warehouses and, unless told otherwise, a default return address (agreeing to a return needs one)."""
    shop = Shop.objects.create(name=name or f"店铺{next(_seq)}")
    for priority, (wh_name, province) in enumerate(warehouses):
        Warehouse.objects.create(shop=shop, name=wh_name, province=province, priority=priority)
    if return_address:
        ReturnAddress.objects.create(shop=shop, is_default=True, **RETURN_ADDRESS)
    return shop


def make_sku(
    shop: Shop, *, price: str = "59.90", stock: int = 100, code: str | None = None, freight: str = "0.00", **product_fields
) -> Sku:
    n = next(_seq)
    product = Product.objects.create(shop=shop, name=product_fields.pop("name", f"商品{n}"), freight=Decimal(freight), **product_fields)
    sku = Sku.objects.create(product=product, shop=shop, code=code or f"SKU-{n}", spec="默认", price=Decimal(price))
    for index, warehouse in enumerate(shop.warehouses.all()):
        StockLevel.objects.create(sku=sku, warehouse=warehouse, available=stock if index == 0 else 0)
    return sku


def make_buyer(name: str | None = None) -> Buyer:
    return Buyer.objects.create(name=name or f"buyer{next(_seq)}")


def make_member(shop: Shop, *, role: str = Role.OWNER, username: str | None = None):
    user = get_user_model().objects.create_user(username=username or f"user{next(_seq)}", password="pw-123456")
    Membership.objects.create(user=user, shop=shop, role=role)
    MerchantApiToken.objects.create(user=user)
    return user


def make_coupon(shop: Shop, *, code: str | None = None, discount: str = "10.00", threshold: str = "0.00", **fields) -> Coupon:
    now = timezone.now()
    return Coupon.objects.create(
        shop=shop,
        code=code or f"C{next(_seq)}",
        name="测试券",
        discount=Decimal(discount),
        threshold=Decimal(threshold),
        valid_from=fields.pop("valid_from", now - timedelta(days=1)),
        valid_to=fields.pop("valid_to", now + timedelta(days=1)),
        **fields,
    )


def stock_of(sku: Sku) -> dict[str, int]:
    totals = {"available": 0, "locked": 0, "occupied": 0}
    for level in StockLevel.objects.filter(sku=sku):
        totals["available"] += level.available
        totals["locked"] += level.locked
        totals["occupied"] += level.occupied
    return totals


def order_payload(shop: Shop, *items: tuple[Sku, int], **extra) -> dict:
    return {"shop_id": shop.pk, "items": [{"sku_id": s.pk, "quantity": q} for s, q in items], "address": dict(ADDRESS), **extra}


def signed_headers(body: bytes, secret: str, *, at: int | None = None) -> dict[str, str]:
    stamp = str(at if at is not None else int(time.time()))
    signature = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Timestamp": stamp, "X-Signature": signature}


def callback_body(payment, *, txn: str, status: str = "succeeded", amount=None, reason: str = "") -> bytes:
    return json.dumps(
        {
            "payment_id": payment["payment_id"] if isinstance(payment, dict) else payment.pk,
            "channel_txn_id": txn,
            "status": status,
            "amount": str(amount if amount is not None else (payment["amount"] if isinstance(payment, dict) else payment.amount)),
            "failure_reason": reason,
        }
    ).encode()

"""JSON endpoints of coupon campaigns: merchants create, list and end them; buyers claim them by code."""
from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Status

from orders.api import BuyerAuth
from orders.api_exceptions import CouponOut, coupon_out
from orders.coupon_selectors import coupon_daily_stats, coupon_feed, coupon_get_for_shops, coupon_status
from orders.models import Coupon
from orders.services.coupon_campaigns import coupon_claim, coupon_create, coupon_end
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.api import ERRORS, ApiDateTime, MerchantAuth, RowId, Schema, money_str, time_str
from shop_admin.kernel.errors import NotFound
from shop_admin.kernel.permissions import Perm, require_perm, user_can
from shop_admin.kernel.selectors import shop_get, user_shop_ids
from shop_admin.kernel.throttling import rate_limited

merchant_router = Router(auth=MerchantAuth(), tags=["merchant coupons"])
buyer_router = Router(auth=BuyerAuth(), tags=["buyer"])

CouponStatus = Literal["upcoming", "active", "ended", "expired"]


class CouponCreateIn(Schema):
    shop_id: RowId
    name: str = Field(..., min_length=1, max_length=60)
    scope: Literal["shop", "skus"] = "shop"
    sku_ids: list[RowId] = Field(default_factory=list, max_length=200, description="scope skus: the SKUs it applies to")
    threshold: str = Field(..., max_length=20, description="yuan: the order (or the chosen SKUs) must reach this")
    discount_type: Literal["amount", "rate"] = Field("amount", description="amount: 满减 (amount off); rate: 折扣券 (pay a part)")
    amount: str | None = Field(None, max_length=20, description="amount coupons: yuan, less than the threshold, at most the platform's cap")
    rate: str | None = Field(None, max_length=10, description="rate coupons: 折 as merchants write it, 0.1-9.9, one decimal (8.5 = pay 85 %)")
    max_discount: str | None = Field(
        None, max_length=20, description="rate coupons: the most it takes off, yuan, at most the platform's cap (the default)"
    )
    valid_from: ApiDateTime
    valid_to: ApiDateTime
    total_quantity: int = Field(..., ge=1, le=1_000_000)
    per_buyer_limit: int = Field(1, ge=1, le=100)


class CouponDayOut(Schema):
    day: str
    issued: int
    used: int
    discount: str


class CampaignOut(Schema):
    coupon_id: int
    code: str
    shop_id: int
    name: str
    status: CouponStatus
    scope: str
    sku_ids: list[int]
    threshold: str
    discount_type: Literal["amount", "rate"]
    amount: str | None  # an amount coupon's face value; null for a rate coupon
    rate: str | None  # a rate coupon's 折 ("8.5"); null for an amount coupon
    max_discount: str | None  # the most a rate coupon takes off; null for an amount coupon
    valid_from: str
    valid_to: str
    total_quantity: int | None
    per_buyer_limit: int
    issued: int
    used: int
    discount_total: str
    ended_at: str | None


class CampaignDetailOut(CampaignOut):
    days: list[CouponDayOut]


class CampaignFeedOut(Schema):
    coupons: list[CampaignOut]
    next_cursor: str | None


class ClaimOut(CouponOut):
    claimed_at: str


def campaign_out(coupon: Coupon, *, now=None) -> dict:
    return {
        "coupon_id": coupon.pk,
        "code": coupon.code,
        "shop_id": coupon.shop_id,
        "name": coupon.name,
        "status": coupon_status(coupon, now=now or timezone.now()),
        "scope": coupon.scope,
        "sku_ids": sorted(s.pk for s in coupon.skus.all()),
        "threshold": money_str(coupon.threshold),
        "discount_type": "rate" if coupon.is_rate else "amount",
        "amount": None if coupon.is_rate else money_str(coupon.discount),
        "rate": coupon.zhe or None,
        "max_discount": money_str(coupon.discount) if coupon.is_rate else None,
        "valid_from": time_str(coupon.valid_from),
        "valid_to": time_str(coupon.valid_to),
        "total_quantity": coupon.total_quantity,
        "per_buyer_limit": coupon.per_buyer_limit,
        "issued": coupon.issued,
        "used": getattr(coupon, "used", 0),
        "discount_total": money_str(getattr(coupon, "discount_total", None) or 0),
        "ended_at": time_str(coupon.ended_at),
    }


def _campaign(request, coupon_id: int) -> Coupon:
    coupon = coupon_get_for_shops(shop_ids=user_shop_ids(user=request.auth), coupon_id=coupon_id)
    require_perm(user=request.auth, shop_id=coupon.shop_id, perm=Perm.MARKETING)
    return coupon


@merchant_router.get("/coupons", response={200: CampaignFeedOut, **ERRORS}, **rate_limited("merchant_list"))
def merchant_coupons(request, status: CouponStatus | None = None, cursor: str | None = None, limit: int = Query(20, ge=1, le=100)):
    user = request.auth
    shop_ids = {pk for pk in user_shop_ids(user=user) if user_can(user=user, shop_id=pk, perm=Perm.MARKETING)}
    rows, next_cursor = coupon_feed(shop_ids=shop_ids, status=status, cursor=cursor, limit=limit)
    now = timezone.now()
    return {"coupons": [campaign_out(c, now=now) for c in rows], "next_cursor": next_cursor}


@merchant_router.post("/coupons", response={201: CampaignOut, **ERRORS})
def merchant_coupon_create(request, payload: CouponCreateIn):
    if payload.shop_id not in user_shop_ids(user=request.auth):
        raise NotFound(_("店铺不存在"), code="shop_not_found")  # another shop's, or none: the same answer
    require_perm(user=request.auth, shop_id=payload.shop_id, perm=Perm.MARKETING)
    coupon = coupon_create(
        shop=shop_get(shop_id=payload.shop_id),
        actor=Actor.for_user(request.auth),
        **payload.model_dump(exclude={"shop_id"}),
    )
    return Status(201, campaign_out(coupon_get_for_shops(shop_ids={coupon.shop_id}, coupon_id=coupon.pk)))


@merchant_router.get("/coupons/{coupon_id}", response={200: CampaignDetailOut, **ERRORS})
def merchant_coupon_detail(request, coupon_id: RowId):
    coupon = _campaign(request, coupon_id)
    days = [
        {"day": d["day"].isoformat(), "issued": d["issued"], "used": d["used"], "discount": money_str(d["discount"])}
        for d in coupon_daily_stats(coupon=coupon)
    ]
    return {**campaign_out(coupon), "days": days}


@merchant_router.post("/coupons/{coupon_id}/end", response={200: CampaignOut, **ERRORS})
def merchant_coupon_end(request, coupon_id: RowId):
    coupon = _campaign(request, coupon_id)
    coupon_end(coupon=coupon, actor=Actor.for_user(request.auth))
    return campaign_out(coupon_get_for_shops(shop_ids={coupon.shop_id}, coupon_id=coupon.pk))


@buyer_router.post("/coupons/{code}/claim", response={201: ClaimOut, **ERRORS})
def buyer_coupon_claim(request, code: str):
    claim = coupon_claim(code=code, buyer=request.auth)
    return Status(201, {**coupon_out(claim.coupon), "claimed_at": time_str(claim.claimed_at)})

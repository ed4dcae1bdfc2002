"""JSON endpoints of the exception centre: merchants list, report and resolve exceptions and recover orders; buyers list their coupons."""
from typing import Literal

from ninja import Field, Query, Router, Status

from orders.api import BuyerAuth
from orders.constants import ExceptionKind, ExceptionStatus
from orders.exception_selectors import buyer_coupons, exception_get_for_shops, exceptions_feed
from orders.models import Coupon, OrderException
from orders.remedies import remedies_for_kind, remedy_get
from orders.selectors import order_get_for_shops
from orders.services.exceptions import order_merchant_report
from orders.services.recovery import order_recover
from orders.services.remedies import exception_remedy_apply
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.api import ERRORS, MerchantAuth, Schema, money_str, time_str
from shop_admin.kernel.permissions import Perm, require_perm
from shop_admin.kernel.selectors import shop_get, user_shop_ids
from shop_admin.kernel.throttling import rate_limited

merchant_router = Router(auth=MerchantAuth(), tags=["merchant exceptions"])
buyer_router = Router(auth=BuyerAuth(), tags=["buyer"])


class RemedyOut(Schema):
    name: str
    label: str
    fields: list[str]
    required: list[str]


class CouponOut(Schema):
    code: str
    shop_id: int
    amount: str | None  # null for a rate coupon (折扣券)
    rate: str | None = None  # a rate coupon's 折 ("8.5" = pay 85 %)
    max_discount: str | None = None  # the most a rate coupon takes off
    threshold: str
    valid_from: str
    valid_to: str
    kind: str
    name: str


class ExceptionFullOut(Schema):
    id: int
    order_no: str
    kind: str
    kind_label: str
    status: str
    opened_at: str
    deadline: str | None
    escalated_at: str | None = Field(None, description="set when the exception was still open at its deadline: the platform steps in")
    detail: str
    evidence: list[str]
    remedies: list[str] = Field(..., description="the remedies this kind allows (names for POST .../resolve)")
    remedy: str
    resolution: str
    note: str
    resolved_at: str | None
    resolved_by: str
    coupon: CouponOut | None


class ExceptionDetailOut(ExceptionFullOut):
    remedy_forms: list[RemedyOut] = Field(..., description="each allowed remedy with the fields its form takes")


class ExceptionFeedOut(Schema):
    exceptions: list[ExceptionFullOut]
    next_cursor: str | None


class MerchantReportIn(Schema):
    kind: Literal["merchant_reported"]
    description: str = Field(..., min_length=1, max_length=2000)
    evidence: list[str] = Field(default_factory=list, max_length=20)


class ResolveIn(Schema):
    remedy: str = Field(..., min_length=1, max_length=30)
    note: str = Field("", max_length=2000)
    coupon_amount: str | None = Field(None, max_length=20, description="compensation coupon, yuan, within the platform limit")
    sku_id: int | None = None
    warehouse_id: int | None = None
    carrier: str | None = Field(None, max_length=20, description="reship: the new parcel's carrier")
    tracking_no: str | None = Field(None, max_length=40, description="reship: the new parcel's tracking number")
    evidence: list[str] = Field(default_factory=list, max_length=20)


class RecoverIn(Schema):
    confirm: bool = False


class RecoverOut(Schema):
    order_no: str
    recovered_from: str
    status: str
    payable: str
    pay_deadline: str | None


def coupon_out(coupon: Coupon) -> dict:
    return {
        "code": coupon.code,
        "shop_id": coupon.shop_id,
        "amount": None if coupon.is_rate else money_str(coupon.discount),
        "rate": coupon.zhe or None,
        "max_discount": money_str(coupon.discount) if coupon.is_rate else None,
        "threshold": money_str(coupon.threshold),
        "valid_from": time_str(coupon.valid_from),
        "valid_to": time_str(coupon.valid_to),
        "kind": coupon.kind,
        "name": coupon.name,
    }


def remedy_out(remedy) -> dict:
    return {
        "name": remedy.name,
        "label": str(remedy.label),
        "fields": [f.name for f in remedy.fields],
        "required": [f.name for f in remedy.fields if f.required] + (["note"] if remedy.note_required else []),
    }


def exception_out(exception: OrderException, *, forms: bool = False) -> dict:
    allowed = remedies_for_kind(exception.kind) if exception.status == ExceptionStatus.OPEN else []
    data = {
        "id": exception.pk,
        "order_no": getattr(exception, "order_no", None) or exception.order.order_no,
        "kind": exception.kind,
        "kind_label": str(exception.get_kind_display()),
        "status": exception.status,
        "opened_at": time_str(exception.opened_at),
        "deadline": time_str(exception.deadline),
        "escalated_at": time_str(exception.escalated_at),
        "detail": exception.detail_text,
        "evidence": exception.evidence,
        "remedies": [r.name for r in allowed],
        "remedy": exception.remedy,
        "resolution": exception.resolution_text,
        "note": exception.note,
        "resolved_at": time_str(exception.resolved_at),
        "resolved_by": exception.resolved_by_label,
        "coupon": coupon_out(exception.coupon) if exception.coupon_id else None,
    }
    if forms:
        data["remedy_forms"] = [remedy_out(r) for r in allowed]
    return data


@merchant_router.get("/exceptions", response={200: ExceptionFeedOut, **ERRORS}, **rate_limited("merchant_list"))
def merchant_exceptions(
    request,
    kind: ExceptionKind | None = None,
    status: ExceptionStatus = ExceptionStatus.OPEN,
    cursor: str | None = None,
    limit: int = Query(20, ge=1, le=100),
):
    rows, next_cursor = exceptions_feed(
        shop_ids=user_shop_ids(user=request.auth), kind=kind, status=status, cursor=cursor, limit=limit
    )
    return {"exceptions": [exception_out(e) for e in rows], "next_cursor": next_cursor}


@merchant_router.get("/exceptions/{exception_id}", response={200: ExceptionDetailOut, **ERRORS})
def merchant_exception_detail(request, exception_id: int):
    exception = exception_get_for_shops(shop_ids=user_shop_ids(user=request.auth), exception_id=exception_id)
    return exception_out(exception, forms=True)


@merchant_router.post("/orders/{order_no}/exceptions", response={201: ExceptionFullOut, **ERRORS})
def merchant_exception_report(request, order_no: str, payload: MerchantReportIn):
    order = order_get_for_shops(shop_ids=user_shop_ids(user=request.auth), order_no=order_no)
    require_perm(user=request.auth, shop_id=order.shop_id, perm=Perm.ORDER_EDIT)
    exception = order_merchant_report(
        order=order, actor=Actor.for_user(request.auth), description=payload.description, evidence=payload.evidence
    )
    return Status(201, exception_out(exception))


@merchant_router.post("/exceptions/{exception_id}/resolve", response={200: ExceptionFullOut, **ERRORS})
def merchant_exception_resolve(request, exception_id: int, payload: ResolveIn):
    exception = exception_get_for_shops(shop_ids=user_shop_ids(user=request.auth), exception_id=exception_id)
    remedy = remedy_get(payload.remedy)
    require_perm(user=request.auth, shop_id=exception.shop_id, perm=remedy.perm if remedy else Perm.ORDER_EDIT)
    if payload.coupon_amount is not None:
        require_perm(user=request.auth, shop_id=exception.shop_id, perm=Perm.ORDER_MONEY)
    values = payload.model_dump(include={"coupon_amount", "sku_id", "warehouse_id", "carrier", "tracking_no"})
    resolved = exception_remedy_apply(
        exception=exception,
        actor=Actor.for_user(request.auth),
        remedy=payload.remedy,
        note=payload.note,
        evidence=payload.evidence,
        values=values,
    )
    return exception_out(exception_get_for_shops(shop_ids={resolved.shop_id}, exception_id=resolved.pk))


@merchant_router.post("/orders/{order_no}/recover", response={201: RecoverOut, **ERRORS})
def merchant_order_recover(request, order_no: str, payload: RecoverIn):
    order = order_get_for_shops(shop_ids=user_shop_ids(user=request.auth), order_no=order_no)
    require_perm(user=request.auth, shop_id=order.shop_id, perm=Perm.ORDER_MONEY)
    new = order_recover(order=order, actor=Actor.for_user(request.auth), confirm=payload.confirm)
    return Status(201, {
        "order_no": new.order_no,
        "recovered_from": order.order_no,
        "status": new.status,
        "payable": money_str(new.payable),
        "pay_deadline": time_str(new.pay_deadline),
    })


@buyer_router.get("/coupons", response={200: list[CouponOut], **ERRORS})
def buyer_coupon_list(request, shop_id: int | None = None):
    if shop_id is not None:
        shop_get(shop_id=shop_id)
    return [coupon_out(c) for c in buyer_coupons(buyer=request.auth, shop_id=shop_id)]

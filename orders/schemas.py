"""Shapes of the JSON API: what comes in, what goes out. Money is a "12.50" string, times ISO 8601 with offset."""
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from django.apps import apps
from ninja import Field
from pydantic import create_model

from orders.constants import PaymentChannel
from orders.models import Order
from orders.parts import order_parts, order_parts_attach
from shop_admin.kernel.api import ApiDateTime, RowId, Schema, money_str, time_str
from shop_admin.kernel.text import phone_mask


class ShopOut(Schema):
    id: int
    name: str


class SkuOut(Schema):
    sku_id: int
    sku_code: str
    name: str
    spec: str
    price: str
    stock_status: Literal["in_stock", "low_stock", "presale", "sold_out"]
    stock_available: int


class ProductOut(Schema):
    product_id: int
    name: str
    category: str
    freight: str
    is_presale: bool
    excluded_regions: list[str]
    rating: float | None = Field(None, description="average of the counted reviews, one decimal; null before the first")
    review_count: int
    skus: list[SkuOut]


class AddressIn(Schema):
    # Optional here so that the one address check names every missing field in Chinese.
    name: str | None = None
    phone: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    detail: str | None = None


class ItemIn(Schema):
    sku_id: RowId
    quantity: int = Field(..., ge=1, le=999)


class OrderCreateIn(Schema):
    shop_id: RowId
    items: list[ItemIn] = Field(..., min_length=1, max_length=50)
    address: AddressIn
    coupon_codes: list[str] = Field(default_factory=list, max_length=5)
    freight_insurance: bool = True
    buyer_message: str = Field("", max_length=200)


class PaymentCreateIn(Schema):
    channel: PaymentChannel


class PaymentCreatedOut(Schema):
    payment_id: int
    amount: str
    purpose: str
    channel: str


class CancelIn(Schema):
    reason: str = Field("", max_length=200)


class AddressChangeIn(Schema):
    address: AddressIn


class NotReceivedIn(Schema):
    description: str = Field(..., min_length=1, max_length=500)


class ExceptionOut(Schema):
    id: int
    kind: str
    status: str
    detail: str
    opened_at: str


class LineOut(Schema):
    sku_id: int
    sku_code: str
    name: str
    spec: str
    quantity: int
    unit_price: str
    line_total: str
    stock_state: str
    snapshot: dict


class AmountsOut(Schema):
    items_total: str
    coupon_discount: str
    full_reduction: str
    freight: str
    subsidy: str
    payable: str
    deposit: str | None
    paid: str


class AddressOut(Schema):
    name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str


class PaymentOut(Schema):
    payment_id: int
    channel: str
    purpose: str
    amount: str
    status: str
    failure_reason: str


class EventOut(Schema):
    kind: str
    actor: str
    actor_kind: str
    from_status: str
    to_status: str
    reason: str
    at: str


class DeadlinesOut(Schema):
    pay_deadline: str | None
    balance_deadline: str | None
    ship_deadline: str | None
    auto_confirm_at: str | None


class OrderOut(Schema):
    order_no: str
    shop_id: int
    status: str
    status_label: str
    kind: str
    created_at: str
    paid_at: str | None
    shipped_at: str | None
    delivered_at: str | None
    completed_at: str | None
    cancelled_at: str | None
    pay_deadline: str | None
    deadlines: DeadlinesOut
    amounts: AmountsOut
    payable: str
    freight_insurance: bool
    address: AddressOut
    buyer_message: str
    items: list[LineOut]
    payments: list[PaymentOut]
    events: list[EventOut]


class MerchantOrderOut(OrderOut):
    merchant_remark: str
    remark_flag: int
    on_hold: bool
    is_frozen: bool
    needs_risk_review: bool
    auto_confirm_at: str | None
    exceptions: list[ExceptionOut]
    recovered_from: str | None = None  # order recovery (订单召回): the cancelled order this one was recovered from
    recovered_to: str | None = None  # ... and the new order a cancelled one was recovered as


@lru_cache(maxsize=2)
def order_view_schema(*, for_merchant: bool) -> type[Schema]:
    """The order as the API shows it: orders' fields plus each registered part's (parcels, cases)."""
    if not apps.ready:
        raise RuntimeError("the order view is composed after every app has registered its parts")
    base = MerchantOrderOut if for_merchant else OrderOut
    fields = {
        part.api_field: (list[part.api_item_schema], ...)
        for part in order_parts()
        if part.api_field and (for_merchant or not part.merchant_only)
    }
    return create_model(f"{base.__name__[:-3]}ViewOut", __base__=base, **fields)


def merchant_order_feed_schema() -> type[Schema]:
    return create_model("MerchantOrderFeedOut", __base__=Schema, orders=(list[order_view_schema(for_merchant=True)], ...), next_cursor=(str | None, ...))


class StockIn(Schema):
    available: int = Field(..., le=2_147_483_647, description="units on the shelf not yet shipped; locked and occupied units are part of it")
    warehouse_id: int | None = Field(None, description="required when the SKU is stocked in more than one warehouse")
    force: bool = False
    request_id: str | None = Field(None, min_length=1, max_length=64, description="a repeat with the same id changes nothing")


class StockOut(Schema):
    sku_id: int
    warehouse_id: int
    warehouse_name: str
    available: int
    locked: int
    occupied: int
    on_hand: int


class StockTotalsOut(Schema):
    available: int
    locked: int
    occupied: int
    on_hand: int


class SkuStockOut(Schema):
    sku_id: int
    sku_code: str
    warehouses: list[StockOut]
    totals: StockTotalsOut


def stock_level_out(level) -> dict:
    return {
        "sku_id": level.sku_id,
        "warehouse_id": level.warehouse_id,
        "warehouse_name": level.warehouse.name,
        "available": level.available,
        "locked": level.locked,
        "occupied": level.occupied,
        "on_hand": level.available + level.locked + level.occupied,
    }


class PaymentCallbackIn(Schema):
    payment_id: int
    channel_txn_id: str = Field(..., min_length=1, max_length=64)
    status: Literal["succeeded", "failed"]
    amount: Decimal = Field(..., gt=0, max_digits=12, decimal_places=2)
    failure_reason: str = ""
    time: ApiDateTime | None = None


class RefundCallbackIn(Schema):
    refund_id: int
    channel_txn_id: str = Field(..., min_length=1, max_length=64)
    status: Literal["succeeded", "failed"]
    failure_reason: str = Field("", max_length=200)
    time: ApiDateTime | None = None


class CallbackOut(Schema):
    result: str


def order_out(order: Order, *, for_merchant: bool = False) -> dict:
    """The order as the buyer app shows it (phone masked); `for_merchant` unmasks it and adds the merchant's fields."""
    data = {
        "order_no": order.order_no,
        "shop_id": order.shop_id,
        "status": order.status,
        "status_label": str(order.get_status_display()),
        "kind": order.kind,
        "created_at": time_str(order.created_at),
        "paid_at": time_str(order.paid_at),
        "shipped_at": time_str(order.shipped_at),
        "delivered_at": time_str(order.delivered_at),
        "completed_at": time_str(order.completed_at),
        "cancelled_at": time_str(order.cancelled_at),
        "pay_deadline": time_str(order.pay_deadline),
        "deadlines": {
            "pay_deadline": time_str(order.pay_deadline),
            "balance_deadline": time_str(order.balance_deadline),
            "ship_deadline": time_str(order.ship_deadline),
            "auto_confirm_at": time_str(order.auto_confirm_at),
        },
        "amounts": {
            "items_total": money_str(order.items_total),
            "coupon_discount": money_str(order.coupon_discount),
            "full_reduction": money_str(order.full_reduction),
            "freight": money_str(order.freight),
            "subsidy": money_str(order.subsidy),
            "payable": money_str(order.payable),
            "deposit": money_str(order.deposit_amount),
            "paid": money_str(order.paid_amount),
        },
        "payable": money_str(order.payable),
        "freight_insurance": order.freight_insurance,
        "address": order.address_dict(),
        "buyer_message": order.buyer_message,
        "items": [
            {
                "sku_id": ln.sku_id,
                "sku_code": ln.sku_code,
                "name": ln.product_name,
                "spec": ln.spec,
                "quantity": ln.quantity,
                "unit_price": money_str(ln.unit_price),
                "line_total": money_str(ln.line_total),
                "stock_state": ln.stock_state,
                "snapshot": ln.product_snapshot,
            }
            for ln in order.lines.all()
        ],
        "payments": [
            {
                "payment_id": p.pk,
                "channel": p.channel,
                "purpose": p.purpose,
                "amount": money_str(p.amount),
                "status": p.status,
                "failure_reason": p.failure_reason,
            }
            for p in order.payments.all()
        ],
        "events": [
            {
                "kind": e.kind,
                "actor": e.actor_label,
                "actor_kind": e.actor_kind,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "reason": e.reason,
                "at": time_str(e.created_at),
            }
            for e in order.events.all()
        ],
    }
    if for_merchant:
        data.update(
            {
                "merchant_remark": order.merchant_remark,
                "remark_flag": order.remark_flag,
                "on_hold": order.on_hold,
                "is_frozen": order.is_frozen,
                "needs_risk_review": order.needs_risk_review,
                "auto_confirm_at": time_str(order.auto_confirm_at),
                "exceptions": [
                    {"id": e.pk, "kind": e.kind, "status": e.status, "detail": e.detail, "opened_at": time_str(e.opened_at)}
                    for e in order.exceptions.all()
                ],
                "recovered_from": order.recovered_from.order_no if order.recovered_from_id else None,
                "recovered_to": getattr(getattr(order, "recovered_to", None), "order_no", None),
            }
        )
    else:
        data["address"]["phone"] = phone_mask(order.phone)
    if not hasattr(order, "part_rows"):
        order_parts_attach([order])
    for pr in order.part_rows:
        if pr.part.api_field and (for_merchant or not pr.part.merchant_only):
            data[pr.part.api_field] = [pr.part.api_item(row) for row in pr.rows]
    return data

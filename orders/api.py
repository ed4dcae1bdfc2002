"""JSON endpoints of orders: the buyer app, the merchant open API (orders, stock) and the payment callback."""
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Status
from ninja.security import HttpBearer

from orders.constants import OrderStatus
from orders.models import Buyer
from orders.schemas import (
    AddressChangeIn,
    CallbackOut,
    CancelIn,
    ExceptionOut,
    NotReceivedIn,
    OrderCreateIn,
    PaymentCallbackIn,
    PaymentCreatedOut,
    PaymentCreateIn,
    ProductOut,
    RefundCallbackIn,
    ShopOut,
    SkuStockOut,
    StockIn,
    StockOut,
    merchant_order_feed_schema,
    order_out,
    order_view_schema,
    stock_level_out,
)
from orders.selectors import (
    buyer_by_token,
    order_feed_for_shops,
    order_get_for_buyer,
    order_get_for_shops,
    products_for_shop,
    sku_get_for_shops,
    stock_levels_of_sku,
    stock_status,
    stock_totals,
)
from orders.services.exceptions import order_not_received_report
from orders.services.idempotency import idempotent_call
from orders.services.lifecycle import (
    order_cancel,
    order_change_address,
    order_confirm_receipt,
)
from orders.services.payments import payment_callback_apply, payment_create
from orders.services.refunds import refund_callback_apply
from orders.services.stock import stock_set
from orders.services.submit import ItemRequest, order_submit
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.api import (
    ERRORS,
    ApiDateTime,
    MerchantAuth,
    callback_openapi,
    money_str,
    parse_callback,
    schema_built,
    signed_body,
    time_str,
)
from shop_admin.kernel.errors import (
    Invalid,
)
from shop_admin.kernel.permissions import Perm, require_perm
from shop_admin.kernel.selectors import shop_get, shop_list, user_shop_ids
from shop_admin.kernel.shoprules import shop_rule
from shop_admin.kernel.throttling import rate_limited


class BuyerAuth(HttpBearer):
    """`Authorization: Bearer <buyer token>`; `request.auth` is the Buyer."""

    def authenticate(self, request: HttpRequest, token: str) -> Buyer | None:
        return buyer_by_token(token=token)


buyer_router = Router(auth=BuyerAuth(), tags=["buyer"])
merchant_router = Router(auth=MerchantAuth(), tags=["merchant"])
callback_router = Router(tags=["callbacks"])


# --- buyer app ---


@buyer_router.get("/shops", response={200: list[ShopOut], **ERRORS})
def shops_list(request):
    return [{"id": s.pk, "name": s.name} for s in shop_list()]


@buyer_router.get("/shops/{shop_id}/products", response={200: list[ProductOut], **ERRORS})
def shop_products(request, shop_id: int):
    shop_get(shop_id=shop_id)
    threshold = shop_rule(shop_id, "low_stock_threshold")
    return [
        {
            "product_id": p.pk,
            "name": p.name,
            "category": p.category,
            "freight": money_str(p.freight),
            "is_presale": p.is_presale,
            "excluded_regions": p.excluded_regions,
            "rating": p.rating,
            "review_count": p.review_count,
            "skus": [
                {
                    "sku_id": s.pk,
                    "sku_code": s.code,
                    "name": p.name,
                    "spec": s.spec,
                    "price": money_str(s.price),
                    "stock_status": stock_status(is_presale=p.is_presale, available=s.stock_available or 0, low_stock_threshold=threshold),
                    "stock_available": s.stock_available or 0,
                }
                for s in p.skus.all()
            ],
        }
        for p in products_for_shop(shop_id=shop_id)
    ]


BUYER_ORDER_VIEW = order_view_schema(for_merchant=False)


@buyer_router.post("/orders", response={201: BUYER_ORDER_VIEW, **ERRORS}, **rate_limited("order_submit"))
def order_create(request, payload: OrderCreateIn, idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    buyer = request.auth

    def submit() -> tuple[int, dict]:
        order = order_submit(
            buyer=buyer,
            shop_id=payload.shop_id,
            items=[ItemRequest(sku_id=i.sku_id, quantity=i.quantity) for i in payload.items],
            address=payload.address.model_dump(),
            coupon_codes=payload.coupon_codes,
            freight_insurance=payload.freight_insurance,
            buyer_message=payload.buyer_message,
        )
        return 201, order_out(order)  # built from what was just written, not read back

    if idempotency_key is None:
        # Shaped by order_out from what was just written: sent as it is, not validated field by field again.
        status, body = submit()
        return Status(status, schema_built(BUYER_ORDER_VIEW, body))
    if not 1 <= len(idempotency_key) <= 100 or "\x00" in idempotency_key:
        raise Invalid(_("Idempotency-Key 长度须为1到100"), code="invalid_idempotency_key", details={"header": "Idempotency-Key"})
    return Status(*idempotent_call(buyer=buyer, key=idempotency_key, payload=payload.model_dump(mode="json"), action=submit))


@buyer_router.get("/orders/{order_no}", response={200: order_view_schema(for_merchant=False), **ERRORS}, **rate_limited("buyer_order_read"))
def order_detail(request, order_no: str):
    return order_out(order_get_for_buyer(buyer=request.auth, order_no=order_no))


@buyer_router.post("/orders/{order_no}/payments", response={201: PaymentCreatedOut, **ERRORS})
def order_pay(request, order_no: str, payload: PaymentCreateIn):
    order = order_get_for_buyer(buyer=request.auth, order_no=order_no)
    payment = payment_create(order=order, actor=Actor.for_buyer(request.auth), channel=payload.channel)
    return Status(201, {
        "payment_id": payment.pk,
        "amount": money_str(payment.amount),
        "purpose": payment.purpose,
        "channel": payment.channel,
    })


@buyer_router.post("/orders/{order_no}/cancel", response={200: order_view_schema(for_merchant=False), **ERRORS})
def order_cancel_by_buyer(request, order_no: str, payload: CancelIn):
    order = order_get_for_buyer(buyer=request.auth, order_no=order_no)
    order_cancel(order=order, actor=Actor.for_buyer(request.auth), reason=payload.reason)
    return order_out(order_get_for_buyer(buyer=request.auth, order_no=order_no))


@buyer_router.post("/orders/{order_no}/address", response={200: order_view_schema(for_merchant=False), **ERRORS})
def order_address(request, order_no: str, payload: AddressChangeIn):
    order = order_get_for_buyer(buyer=request.auth, order_no=order_no)
    order_change_address(order=order, actor=Actor.for_buyer(request.auth), address=payload.address.model_dump())
    return order_out(order_get_for_buyer(buyer=request.auth, order_no=order_no))


@buyer_router.post("/orders/{order_no}/confirm-receipt", response={200: order_view_schema(for_merchant=False), **ERRORS})
def order_confirm(request, order_no: str):
    order = order_get_for_buyer(buyer=request.auth, order_no=order_no)
    order_confirm_receipt(order=order, actor=Actor.for_buyer(request.auth))
    return order_out(order_get_for_buyer(buyer=request.auth, order_no=order_no))


@buyer_router.post("/orders/{order_no}/not-received", response={201: ExceptionOut, **ERRORS})
def order_not_received(request, order_no: str, payload: NotReceivedIn):
    order = order_get_for_buyer(buyer=request.auth, order_no=order_no)
    exception = order_not_received_report(order=order, actor=Actor.for_buyer(request.auth), description=payload.description)
    return Status(201, {
        "id": exception.pk,
        "kind": exception.kind,
        "status": exception.status,
        "detail": exception.detail,
        "opened_at": time_str(exception.opened_at),
    })


# --- merchant open API ---


@merchant_router.get("/orders", response={200: merchant_order_feed_schema(), **ERRORS}, **rate_limited("merchant_list"))
def merchant_orders(
    request,
    status: OrderStatus | None = None,
    updated_since: ApiDateTime | None = None,
    cursor: str | None = None,
    limit: int = Query(20, ge=1, le=100),
):
    orders, next_cursor = order_feed_for_shops(
        shop_ids=user_shop_ids(user=request.auth), status=status, updated_since=updated_since, cursor=cursor, limit=limit
    )
    return {"orders": [order_out(o, for_merchant=True) for o in orders], "next_cursor": next_cursor}


@merchant_router.get("/orders/{order_no}", response={200: order_view_schema(for_merchant=True), **ERRORS})
def merchant_order_detail(request, order_no: str):
    return order_out(order_get_for_shops(shop_ids=user_shop_ids(user=request.auth), order_no=order_no), for_merchant=True)


@merchant_router.get("/skus/{sku_id}/stock", response={200: SkuStockOut, **ERRORS})
def merchant_stock_get(request, sku_id: int):
    sku = sku_get_for_shops(shop_ids=user_shop_ids(user=request.auth), sku_id=sku_id)
    levels = stock_levels_of_sku(sku_id=sku.pk)
    return {"sku_id": sku.pk, "sku_code": sku.code, "warehouses": [stock_level_out(lv) for lv in levels], "totals": stock_totals(levels)}


@merchant_router.put("/skus/{sku_id}/stock", response={200: StockOut, **ERRORS})
def merchant_stock(request, sku_id: int, payload: StockIn):
    sku = sku_get_for_shops(shop_ids=user_shop_ids(user=request.auth), sku_id=sku_id)
    require_perm(user=request.auth, shop_id=sku.shop_id, perm=Perm.STOCK_EDIT)
    level = stock_set(
        sku_id=sku.pk,
        actor=Actor.for_user(request.auth),
        on_hand=payload.available,
        warehouse_id=payload.warehouse_id,
        force=payload.force,
        request_id=payload.request_id,
    )
    return stock_level_out(level)


# --- callbacks ---


def _callback_apply(request, schema, apply) -> dict:
    """A channel's signed callback (the payment secret) applied by its service: the body's fields, `time` as `at`."""
    data = parse_callback(schema, signed_body(request, settings.PAYMENT_CALLBACK_SECRET))
    fields = {("at" if name == "time" else name): getattr(data, name) for name in schema.model_fields}
    return {"result": apply(**fields)}


@callback_router.post("/payment", response={200: CallbackOut, **ERRORS}, openapi_extra=callback_openapi(PaymentCallbackIn))
def payment_callback(request):
    return _callback_apply(request, PaymentCallbackIn, payment_callback_apply)


@callback_router.post("/refund", response={200: CallbackOut, **ERRORS}, openapi_extra=callback_openapi(RefundCallbackIn))
def refund_callback(request):
    """The payment channel reports a refund done or failed; signed with the payment secret. Replays answer `duplicate`."""
    return _callback_apply(request, RefundCallbackIn, refund_callback_apply)

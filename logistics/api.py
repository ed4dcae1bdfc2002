"""JSON endpoints of logistics: the merchant open API's ship action."""
from ninja import Router

from logistics.schemas import ShipIn
from logistics.services import shipment_create
from orders.schemas import order_out, order_view_schema
from orders.selectors import order_get_for_shops
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.api import ERRORS, MerchantAuth
from shop_admin.kernel.permissions import Perm, require_perm
from shop_admin.kernel.selectors import user_shop_ids

merchant_router = Router(auth=MerchantAuth(), tags=["merchant"])


@merchant_router.post("/orders/{order_no}/ship", response={200: order_view_schema(for_merchant=True), **ERRORS})
def merchant_ship(request, order_no: str, payload: ShipIn):
    shop_ids = user_shop_ids(user=request.auth)
    order = order_get_for_shops(shop_ids=shop_ids, order_no=order_no)
    require_perm(user=request.auth, shop_id=order.shop_id, perm=Perm.ORDER_SHIP)
    shipment_create(order=order, actor=Actor.for_user(request.auth), carrier=payload.carrier, tracking_no=payload.tracking_no)
    return order_out(order_get_for_shops(shop_ids=shop_ids, order_no=order_no), for_merchant=True)

"""JSON endpoints of logistics: the merchant open API's ship action and parcel list, and the carriers' signed tracking push."""
from django.conf import settings
from django.utils import timezone
from ninja import Query, Router

from logistics.constants import Carrier, ShipmentStatus
from logistics.routes import ParcelFilters, parcel_hours, parcels_feed
from logistics.schemas import (
    LogisticsCallbackIn,
    LogisticsCallbackOut,
    NotReceivedAnswerIn,
    ParcelFeedOut,
    ReshipIn,
    ShipIn,
    parcel_out,
)
from logistics.services import shipment_create
from logistics.services.not_received import not_received_answer, shipment_reship
from logistics.services.tracking import TrackingReport, tracking_events_apply
from orders.schemas import order_out, order_view_schema
from orders.selectors import order_get_for_shops
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.api import ERRORS, MerchantAuth, callback_openapi, parse_callback, signed_body
from shop_admin.kernel.permissions import Perm, require_perm, user_can
from shop_admin.kernel.selectors import user_shop_ids
from shop_admin.kernel.throttling import rate_limited

merchant_router = Router(auth=MerchantAuth(), tags=["merchant"])
callback_router = Router(tags=["callbacks"])


def _order_acted_on(request, order_no: str, perm: str, act) -> dict:
    """A parcel action on one of the merchant's orders: found in their shops, their role checked, done, read back."""
    shop_ids = user_shop_ids(user=request.auth)
    order = order_get_for_shops(shop_ids=shop_ids, order_no=order_no)
    require_perm(user=request.auth, shop_id=order.shop_id, perm=perm)
    act(order, Actor.for_user(request.auth))
    return order_out(order_get_for_shops(shop_ids=shop_ids, order_no=order_no), for_merchant=True)


@merchant_router.post("/orders/{order_no}/ship", response={200: order_view_schema(for_merchant=True), **ERRORS})
def merchant_ship(request, order_no: str, payload: ShipIn):
    return _order_acted_on(
        request,
        order_no,
        Perm.ORDER_SHIP,
        lambda order, actor: shipment_create(
            order=order,
            actor=actor,
            carrier=payload.carrier,
            tracking_no=payload.tracking_no,
            door_delivery=payload.door_delivery,
            add_parcel=payload.add_parcel,
        ),
    )


@merchant_router.post("/orders/{order_no}/reship", response={200: order_view_schema(for_merchant=True), **ERRORS})
def merchant_reship(request, order_no: str, payload: ReshipIn):
    """Signed but not received, really not delivered: a new parcel at the merchant's freight; resolves the exception."""
    return _order_acted_on(
        request,
        order_no,
        Perm.ORDER_SHIP,
        lambda order, actor: shipment_reship(
            order=order, actor=actor, carrier=payload.carrier, tracking_no=payload.tracking_no, door_delivery=payload.door_delivery
        ),
    )


@merchant_router.post("/orders/{order_no}/not-received/answer", response={200: order_view_schema(for_merchant=True), **ERRORS})
def merchant_not_received_answer(request, order_no: str, payload: NotReceivedAnswerIn):
    """Signed but not received, delivered after all: a note and evidence urls resolve the exception."""
    return _order_acted_on(
        request,
        order_no,
        Perm.ORDER_EDIT,
        lambda order, actor: not_received_answer(order=order, actor=actor, note=payload.note, evidence=payload.evidence),
    )


@merchant_router.get("/parcels", response={200: ParcelFeedOut, **ERRORS}, **rate_limited("merchant_list"))
def merchant_parcels(
    request,
    at_risk: bool = False,
    carrier: Carrier | None = None,
    status: ShipmentStatus | None = None,
    cursor: str | None = None,
    limit: int = Query(20, ge=1, le=100),
):
    """The shop's parcels, newest shipped first; `at_risk=1`: on the road and silent or travelling beyond its route's p95."""
    user, now = request.auth, timezone.now()
    shop_ids = {pk for pk in user_shop_ids(user=user) if user_can(user=user, shop_id=pk, perm=Perm.ORDER_VIEW)}
    filters = ParcelFilters(at_risk=at_risk, carrier=carrier or "", status=status or "")
    rows, next_cursor = parcels_feed(shop_ids=shop_ids, filters=filters, now=now, cursor=cursor, limit=limit)
    return {"parcels": [parcel_out(s, parcel_hours(s, now=now)) for s in rows], "next_cursor": next_cursor}


@callback_router.post(
    "/logistics",
    response={200: LogisticsCallbackOut, **ERRORS},
    openapi_extra=callback_openapi(LogisticsCallbackIn),
)
def logistics_callback(request):
    """A carrier's (or aggregator's) tracking push, signed with LOGISTICS_CALLBACK_SECRET; a repeat changes nothing."""
    data = parse_callback(LogisticsCallbackIn, signed_body(request, settings.LOGISTICS_CALLBACK_SECRET))
    applied = tracking_events_apply(
        carrier=data.carrier,
        tracking_no=data.tracking_no,
        reports=[TrackingReport(code=e.code, occurred_at=e.time, location=e.location, description=e.description) for e in data.events],
    )
    return {
        "result": "applied" if applied.applied else "duplicate",
        "applied": applied.applied,
        "duplicates": applied.duplicates,
        "status": applied.status,
    }

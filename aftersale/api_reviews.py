"""JSON endpoints of reviews: buyers review the lines of a received order and follow up; ERPs list, reply and report."""
from ninja import Query, Router, Status

from aftersale.review_selectors import ReviewFilters, review_feed, review_get_for_shops
from aftersale.schemas import (
    FollowUpIn,
    ReviewCreateIn,
    ReviewFeedOut,
    ReviewOut,
    ReviewReplyIn,
    ReviewReportIn,
    review_out,
)
from aftersale.services.reviews import (
    LineReview,
    review_follow_up,
    review_reply,
    review_report,
    reviews_create,
)
from orders.api import BuyerAuth
from orders.selectors import order_get_for_buyer
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.api import ERRORS, MerchantAuth, RowId
from shop_admin.kernel.permissions import Perm, require_perm, user_can
from shop_admin.kernel.selectors import user_shop_ids
from shop_admin.kernel.throttling import rate_limited

buyer_router = Router(auth=BuyerAuth(), tags=["buyer"])
merchant_router = Router(auth=MerchantAuth(), tags=["merchant reviews"])


@buyer_router.post("/orders/{order_no}/reviews", response={201: list[ReviewOut], **ERRORS})
def buyer_reviews_create(request, order_no: str, payload: ReviewCreateIn):
    order = order_get_for_buyer(buyer=request.auth, order_no=order_no)
    reviews = reviews_create(
        order=order,
        actor=Actor.for_buyer(request.auth),
        items=[LineReview(sku_id=i.sku_id, rating=i.rating, text=i.text, images=i.images) for i in payload.items],
        logistics_rating=payload.logistics_rating,
        service_rating=payload.service_rating,
    )
    return Status(201, [review_out(r) for r in reviews])


@buyer_router.post("/orders/{order_no}/reviews/follow-up", response={201: ReviewOut, **ERRORS})
def buyer_review_follow_up(request, order_no: str, payload: FollowUpIn):
    order = order_get_for_buyer(buyer=request.auth, order_no=order_no)
    review = review_follow_up(order=order, actor=Actor.for_buyer(request.auth), sku_id=payload.sku_id, text=payload.text)
    return Status(201, review_out(review))


def _review(request, review_id: int):
    review = review_get_for_shops(shop_ids=user_shop_ids(user=request.auth), review_id=review_id)
    require_perm(user=request.auth, shop_id=review.shop_id, perm=Perm.REVIEW)
    return review


def _review_reloaded(review) -> dict:
    return review_out(review_get_for_shops(shop_ids={review.shop_id}, review_id=review.pk))


@merchant_router.get("/reviews", response={200: ReviewFeedOut, **ERRORS}, **rate_limited("merchant_list"))
def merchant_reviews(
    request,
    rating_max: int | None = Query(None, ge=1, le=5),
    replied: bool | None = None,
    with_images: bool | None = None,
    sku_id: RowId | None = None,
    cursor: str | None = None,
    limit: int = Query(20, ge=1, le=100),
):
    user = request.auth
    shop_ids = {pk for pk in user_shop_ids(user=user) if user_can(user=user, shop_id=pk, perm=Perm.REVIEW)}
    filters = ReviewFilters(rating_max=rating_max, replied=replied, with_images=with_images, sku_id=sku_id)
    rows, next_cursor = review_feed(shop_ids=shop_ids, filters=filters, cursor=cursor, limit=limit)
    return {"reviews": [review_out(r) for r in rows], "next_cursor": next_cursor}


@merchant_router.post("/reviews/{review_id}/reply", response={200: ReviewOut, **ERRORS})
def merchant_review_reply(request, review_id: RowId, payload: ReviewReplyIn):
    review = review_reply(review=_review(request, review_id), actor=Actor.for_user(request.auth), text=payload.text)
    return _review_reloaded(review)


@merchant_router.post("/reviews/{review_id}/report", response={201: ReviewOut, **ERRORS})
def merchant_review_report(request, review_id: RowId, payload: ReviewReportIn):
    report = review_report(
        review=_review(request, review_id), actor=Actor.for_user(request.auth), reason=payload.reason,
        description=payload.description, evidence=payload.evidence,
    )
    return Status(201, _review_reloaded(report.review))

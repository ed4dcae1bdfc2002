"""The demo's reviews: buyers of received orders review them, mostly well; a bad one answered, one reported to the platform."""
import random

from django.utils import timezone

from aftersale.services.reviews import LineReview, review_reply, review_report, review_window_end, reviews_create
from orders.constants import OrderStatus
from orders.models import Order
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.models import Shop

TEXTS = {
    5: ["很好喝，回购了", "包装很好，物流也快", "味道正宗，推荐"],
    4: ["还不错，就是甜了点", "整体满意"],
    3: ["一般般"],
    2: ["收到有点漏，味道还行"],
    1: ["和描述不符，差评", "加微信返现就给好评，不然差评"],
}


def demo_reviews(*, shop: Shop, merchant, rng: random.Random, count: int = 12) -> None:
    """Up to `count` received orders reviewed (within the review window); the first bad review answered, the last reported."""
    now = timezone.now()
    orders = Order.objects.filter(shop=shop, status__in=[OrderStatus.DELIVERED, OrderStatus.COMPLETED]).order_by("-pk")[: count * 3]
    bad = []
    for order in [o for o in orders if (review_window_end(o) or now) >= now][:count]:
        rating = rng.choices([5, 4, 3, 2, 1], weights=[55, 20, 10, 8, 7])[0]
        items = [LineReview(sku_id=line.sku_id, rating=rating, text=rng.choice(TEXTS[rating])) for line in order.lines.order_by("pk")]
        reviews = reviews_create(
            order=order, actor=Actor.for_buyer(order.buyer), items=items,
            logistics_rating=rng.choice([4, 5]), service_rating=rng.choice([3, 4, 5]),
        )
        bad += [r for r in reviews if r.rating <= 2]
    staff = Actor.for_user(merchant)
    if len(bad) >= 1:
        review_reply(review=bad[0], actor=staff, text="非常抱歉给您带来不便，已为您安排补发，请留意物流")
    if len(bad) >= 2:
        review_report(review=bad[-1], actor=staff, reason="extortion", description="买家以差评索要返现", evidence=[])

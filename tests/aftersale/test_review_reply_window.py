"""The reply deadline of a bad review is the shop's own window (shop settings), within the platform's bounds."""
from datetime import timedelta

from django.utils import timezone

from aftersale.models import ProductReview
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.models import ShopRules
from shop_admin.kernel.shoprules import shop_rules_update


def _review(buyer_api, order, sku, rating: int) -> ProductReview:
    status, body = buyer_api.post(f"/orders/{order.order_no}/reviews", {"items": [{"sku_id": sku.pk, "rating": rating, "text": "评价"}]})
    assert status == 201, body
    return ProductReview.objects.get(pk=body[0]["id"])


def test_a_bad_review_is_due_within_the_shops_own_window(order_in, buyer_api, shop, owner, tea, settings):
    # given: the shop answers bad reviews within 48 h instead of the platform's 24 h
    assert settings.REVIEW_REPLY_WITHIN == timedelta(hours=24)
    shop_rules_update(shop=shop, actor=Actor.for_user(owner), numbers={"review_reply_hours": 48})
    order = order_in("completed")
    # when
    before = timezone.now()
    review = _review(buyer_api, order, tea, 1)
    after = timezone.now()
    # then
    assert before + timedelta(hours=48) <= review.reply_deadline <= after + timedelta(hours=48)


def test_a_shop_that_set_nothing_follows_the_platform_default_and_good_reviews_have_no_deadline(order_in, buyer_api, tea, cup):
    order = order_in("completed")
    before = timezone.now()
    bad = _review(buyer_api, order, tea, 2)
    assert before + timedelta(hours=24) <= bad.reply_deadline <= timezone.now() + timedelta(hours=24)
    assert _review(buyer_api, order, cup, 4).reply_deadline is None


def test_a_window_past_the_platforms_maximum_is_refused_on_its_field(shop, console):
    response = console.post("/settings/shop/", {"review_reply_hours": "100"})
    assert response.status_code == 200
    assert "1 至 72" in response.context["form"].errors["review_reply_hours"][0]
    assert not ShopRules.objects.filter(shop=shop, review_reply_hours__isnull=False).exists()
    assert console.post("/settings/shop/", {"review_reply_hours": "72"}).status_code == 302
    assert ShopRules.objects.get(shop=shop).review_reply_hours == 72

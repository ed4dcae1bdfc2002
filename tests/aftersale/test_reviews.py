"""Reviews (评价): buyers review received lines once and follow up once, merchants reply once and report, the platform
keeps or hides; the product's score follows, and another shop sees none of it."""
from datetime import timedelta

import pytest
from django.utils import timezone

from aftersale.constants import ReviewEventKind
from aftersale.models import ProductReview
from orders.models import Order, OrderEvent, Product
from shop_admin.kernel.constants import Role
from tests.conftest import ApiClient
from tests.factories import make_member


def _review_body(order: Order, *, rating=5, text="好喝", images=None, **extra):
    items = [
        {"sku_id": line.sku_id, "rating": rating, "text": text, "images": images or []}
        for line in order.lines.order_by("pk")
    ]
    return {"items": items, "logistics_rating": 5, "service_rating": 4, **extra}


def test_a_buyer_reviews_each_line_of_a_received_order_and_the_product_shows_its_score(order_in, buyer_api, shop, tea):
    order = order_in("delivered")

    status, reviews = buyer_api.post(f"/orders/{order.order_no}/reviews", _review_body(order, rating=4, images=["https://img.example.com/1.jpg"]))

    assert status == 201, reviews
    assert [r["rating"] for r in reviews] == [4, 4]
    assert reviews[0]["images"] == ["https://img.example.com/1.jpg"] and reviews[0]["logistics_rating"] == 5
    status, products = buyer_api.get(f"/shops/{shop.pk}/products")
    shown = {p["product_id"]: p for p in products}[tea.product_id]
    assert (shown["rating"], shown["review_count"]) == (4.0, 1)
    assert OrderEvent.objects.filter(order=order, kind=ReviewEventKind.CREATED).count() == 2


def test_a_line_is_reviewed_once(order_in, buyer_api):
    order = order_in("completed")
    assert buyer_api.post(f"/orders/{order.order_no}/reviews", _review_body(order))[0] == 201

    status, body = buyer_api.post(f"/orders/{order.order_no}/reviews", _review_body(order))

    assert status == 409 and body["error"]["code"] == "already_reviewed"
    assert ProductReview.objects.filter(order=order).count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rating": 6}, "items.0.rating"),
        ({"rating": 0}, "items.0.rating"),
        ({"text": "长" * 501}, "items.0.text"),
        ({"images": [f"https://img.example.com/{i}.jpg" for i in range(10)]}, "items.0.images"),
        ({"images": ["javascript:alert(1)"]}, "items.0.images.0"),
        ({"sku_id": 999999}, "items.0.sku_id"),
    ],
)
def test_a_bad_review_is_refused_naming_the_field(order_in, buyer_api, change, field):
    order = order_in("delivered")
    body = _review_body(order)
    body["items"][0].update(change)

    status, answer = buyer_api.post(f"/orders/{order.order_no}/reviews", body)

    assert status == 422, answer
    assert field in answer["error"]["details"]["fields"]
    assert not ProductReview.objects.filter(order=order).exists()


def test_the_logistics_rating_is_checked_too(order_in, buyer_api):
    order = order_in("delivered")
    status, answer = buyer_api.post(f"/orders/{order.order_no}/reviews", _review_body(order, logistics_rating=9))
    assert status == 422 and "logistics_rating" in answer["error"]["details"]["fields"]


def test_an_order_not_received_cannot_be_reviewed(order_in, buyer_api):
    order = order_in("shipped")
    status, answer = buyer_api.post(f"/orders/{order.order_no}/reviews", _review_body(order))
    assert status == 422 and answer["error"]["code"] == "not_reviewable"


def test_the_review_window_closes_15_days_after_completion(order_in, buyer_api):
    order = order_in("completed")
    Order.objects.filter(pk=order.pk).update(completed_at=timezone.now() - timedelta(days=15, minutes=1))

    status, answer = buyer_api.post(f"/orders/{order.order_no}/reviews", _review_body(order))

    assert status == 422 and answer["error"]["code"] == "review_window_passed"


def test_one_follow_up_per_line_within_90_days(order_in, buyer_api, tea):
    order = order_in("completed")
    buyer_api.post(f"/orders/{order.order_no}/reviews", _review_body(order))

    status, review = buyer_api.post(f"/orders/{order.order_no}/reviews/follow-up", {"sku_id": tea.pk, "text": "用了一个月还不错"})
    assert status == 201 and review["follow_up"]["text"] == "用了一个月还不错"
    status, again = buyer_api.post(f"/orders/{order.order_no}/reviews/follow-up", {"sku_id": tea.pk, "text": "再说一次"})
    assert status == 409 and again["error"]["code"] == "already_followed_up"


def test_a_follow_up_after_90_days_is_refused(order_in, buyer_api, tea):
    order = order_in("completed")
    buyer_api.post(f"/orders/{order.order_no}/reviews", _review_body(order))
    Order.objects.filter(pk=order.pk).update(completed_at=timezone.now() - timedelta(days=91))

    status, answer = buyer_api.post(f"/orders/{order.order_no}/reviews/follow-up", {"sku_id": tea.pk, "text": "迟到的追评"})

    assert status == 422 and answer["error"]["code"] == "follow_up_window_passed"


def test_a_follow_up_without_a_review_is_refused(order_in, buyer_api, tea):
    order = order_in("completed")
    status, answer = buyer_api.post(f"/orders/{order.order_no}/reviews/follow-up", {"sku_id": tea.pk, "text": "追评"})
    assert status == 404 and answer["error"]["code"] == "review_not_found"


def test_the_merchant_lists_filters_and_replies_once(order_in, buyer_api, merchant_api, tea, cup):
    order = order_in("delivered")
    body = _review_body(order)
    body["items"][0].update(rating=1, images=["https://img.example.com/bad.jpg"])
    buyer_api.post(f"/orders/{order.order_no}/reviews", body)

    status, feed = merchant_api.get("/merchant/reviews?rating_max=2")
    assert status == 200 and [r["sku_id"] for r in feed["reviews"]] == [tea.pk]
    bad = feed["reviews"][0]
    assert bad["reply_deadline"] is not None
    assert merchant_api.get("/merchant/reviews?with_images=true")[1]["reviews"][0]["id"] == bad["id"]
    assert [r["sku_id"] for r in merchant_api.get(f"/merchant/reviews?sku_id={cup.pk}")[1]["reviews"]] == [cup.pk]

    status, replied = merchant_api.post(f"/merchant/reviews/{bad['id']}/reply", {"text": "抱歉，已为您安排补发"})
    assert status == 200 and replied["reply"]["text"] == "抱歉，已为您安排补发"
    status, again = merchant_api.post(f"/merchant/reviews/{bad['id']}/reply", {"text": "再回复"})
    assert status == 409 and again["error"]["code"] == "already_replied"
    assert [r["id"] for r in merchant_api.get("/merchant/reviews?replied=false")[1]["reviews"]] != [bad["id"]]
    assert merchant_api.get("/merchant/reviews?replied=true")[1]["reviews"][0]["id"] == bad["id"]


def test_an_empty_reply_is_refused_naming_the_text(order_in, buyer_api, merchant_api):
    order = order_in("delivered")
    review = buyer_api.post(f"/orders/{order.order_no}/reviews", _review_body(order))[1][0]
    status, answer = merchant_api.post(f"/merchant/reviews/{review['id']}/reply", {"text": "  "})
    assert status == 422 and "text" in answer["error"]["details"]["fields"]


def test_a_report_needs_an_accepted_reason_and_is_made_once(order_in, buyer_api, merchant_api):
    order = order_in("delivered")
    review = buyer_api.post(f"/orders/{order.order_no}/reviews", _review_body(order, rating=1, text="加微信返现"))[1][0]

    status, answer = merchant_api.post(f"/merchant/reviews/{review['id']}/report", {"reason": "dislike"})
    assert status == 422 and "reason" in answer["error"]["details"]["fields"]
    status, reported = merchant_api.post(
        f"/merchant/reviews/{review['id']}/report",
        {"reason": "advertising", "description": "广告引流", "evidence": ["https://img.example.com/e.jpg"]},
    )
    assert status == 201 and reported["report"]["status"] == "pending"
    status, again = merchant_api.post(f"/merchant/reviews/{review['id']}/report", {"reason": "abusive"})
    assert status == 409 and again["error"]["code"] == "already_reported"


def test_another_shop_sees_and_touches_none_of_it(order_in, buyer_api, stranger_api):
    order = order_in("delivered")
    review = buyer_api.post(f"/orders/{order.order_no}/reviews", _review_body(order, rating=1))[1][0]

    assert stranger_api.get("/merchant/reviews")[1]["reviews"] == []
    assert stranger_api.post(f"/merchant/reviews/{review['id']}/reply", {"text": "x"})[0] == 404
    assert stranger_api.post(f"/merchant/reviews/{review['id']}/report", {"reason": "abusive"})[0] == 404
    assert not ProductReview.objects.filter(pk=review["id"], replied_at__isnull=False).exists()


def test_another_buyer_cannot_review_the_order(order_in, tea):
    from tests.factories import make_buyer

    order = order_in("delivered")
    status, _answer = ApiClient(make_buyer("buyer_b").api_token).post(f"/orders/{order.order_no}/reviews", _review_body(order))
    assert status == 404


def test_the_warehouse_may_not_answer_reviews(order_in, buyer_api, shop):
    order = order_in("delivered")
    review = buyer_api.post(f"/orders/{order.order_no}/reviews", _review_body(order))[1][0]
    warehouse = ApiClient(make_member(shop, role=Role.WAREHOUSE, username="wh").api_token.key)
    service = ApiClient(make_member(shop, role=Role.SERVICE, username="cs").api_token.key)

    assert warehouse.post(f"/merchant/reviews/{review['id']}/reply", {"text": "谢谢"})[0] == 403
    assert service.post(f"/merchant/reviews/{review['id']}/reply", {"text": "谢谢"})[0] == 200


def test_hiding_a_review_takes_it_out_of_the_product_score(order_in, buyer_api, merchant_api, tea):
    from django.contrib.auth import get_user_model

    from aftersale.models import ReviewReport
    from aftersale.services.reviews import review_report_decide
    from shop_admin.kernel.actors import Actor

    first = order_in("delivered")
    second = order_in("delivered")
    buyer_api.post(f"/orders/{first.order_no}/reviews", _review_body(first, rating=5))
    bad = buyer_api.post(f"/orders/{second.order_no}/reviews", _review_body(second, rating=1))[1][0]
    assert Product.objects.get(pk=tea.product_id).rating == 3.0
    merchant_api.post(f"/merchant/reviews/{bad['id']}/report", {"reason": "extortion"})
    staff = get_user_model().objects.create_user("platform_staff", is_staff=True)

    review_report_decide(report=ReviewReport.objects.get(review_id=bad["id"]), actor=Actor.platform(staff), hide=True, note="索要好处")

    product = Product.objects.get(pk=tea.product_id)
    assert (product.rating, product.review_count) == (5.0, 1)
    assert OrderEvent.objects.filter(order=second, kind=ReviewEventKind.HIDDEN).exists()

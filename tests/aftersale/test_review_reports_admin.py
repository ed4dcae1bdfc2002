"""End to end: a merchant reports a review, a platform arbitrator hides it in the admin after a second confirmation,
and the product's rating in the buyer API no longer counts it; keeping a review leaves the score alone."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from aftersale.constants import ReviewEventKind
from aftersale.roles import arbitrators_group
from orders.models import OrderEvent


@pytest.fixture
def arbiter(db):
    user = get_user_model().objects.create_user("arbiter_t", is_staff=True)
    user.groups.add(arbitrators_group())
    client = Client()
    client.force_login(user)
    return client


def _review(buyer_api, order, rating: int) -> dict:
    items = [{"sku_id": line.sku_id, "rating": rating, "text": "评价"} for line in order.lines.order_by("pk")][:1]
    status, reviews = buyer_api.post(f"/orders/{order.order_no}/reviews", {"items": items})
    assert status == 201, reviews
    return reviews[0]


def _product_rating(buyer_api, shop, product_id: int) -> tuple:
    products = {p["product_id"]: p for p in buyer_api.get(f"/shops/{shop.pk}/products")[1]}
    return products[product_id]["rating"], products[product_id]["review_count"]


def _decide(arbiter, report_id: int, action: str, **form):
    return arbiter.post("/admin/aftersale/reviewreport/", {"action": action, "_selected_action": [report_id], **form})


def test_a_reported_review_hidden_in_the_admin_leaves_the_products_rating(order_in, buyer_api, merchant_api, arbiter, shop, tea):
    _review(buyer_api, order_in("delivered"), 5)
    bad = _review(buyer_api, order_in("delivered"), 1)
    assert _product_rating(buyer_api, shop, tea.product_id) == (3.0, 2)
    status, reported = merchant_api.post(
        f"/merchant/reviews/{bad['id']}/report", {"reason": "extortion", "evidence": ["https://img.example.com/chat.png"]}
    )
    assert status == 201
    report_id = reported["report"]["id"]

    # The action first asks for the second confirmation; nothing changes yet.
    asked = _decide(arbiter, report_id, "review_hide")
    assert asked.status_code == 200 and 'name="confirm"' in asked.content.decode()
    unconfirmed = _decide(arbiter, report_id, "review_hide", post="yes", note="索要返现")
    assert unconfirmed.status_code == 200 and _product_rating(buyer_api, shop, tea.product_id) == (3.0, 2)

    done = _decide(arbiter, report_id, "review_hide", post="yes", note="索要返现", confirm="on")

    assert done.status_code == 302
    assert _product_rating(buyer_api, shop, tea.product_id) == (5.0, 1)
    feed = merchant_api.get("/merchant/reviews")[1]["reviews"]
    hidden = next(r for r in feed if r["id"] == bad["id"])
    assert hidden["hidden"] is True and hidden["report"]["status"] == "hidden"
    event = OrderEvent.objects.get(kind=ReviewEventKind.HIDDEN, data__review_id=bad["id"])
    assert event.actor_user.username == "arbiter_t" and event.reason == "索要返现"
    # Decided once: a second decision changes nothing.
    _decide(arbiter, report_id, "review_keep", post="yes", note="再看", confirm="on")
    assert merchant_api.get("/merchant/reviews")[1]["reviews"][0]["report"]["status"] == "hidden"


def test_a_kept_review_still_counts(order_in, buyer_api, merchant_api, arbiter, shop, tea):
    bad = _review(buyer_api, order_in("delivered"), 2)
    report_id = merchant_api.post(f"/merchant/reviews/{bad['id']}/report", {"reason": "abusive"})[1]["report"]["id"]

    _decide(arbiter, report_id, "review_keep", post="yes", note="正常的差评", confirm="on")

    assert _product_rating(buyer_api, shop, tea.product_id) == (2.0, 1)
    assert merchant_api.get("/merchant/reviews")[1]["reviews"][0]["report"]["status"] == "kept"


def test_staff_outside_the_arbitrators_group_cannot_decide(order_in, buyer_api, merchant_api, shop, tea):
    bad = _review(buyer_api, order_in("delivered"), 1)
    report_id = merchant_api.post(f"/merchant/reviews/{bad['id']}/report", {"reason": "abusive"})[1]["report"]["id"]
    staff = Client()
    staff.force_login(get_user_model().objects.create_user("ops", is_staff=True))

    _decide(staff, report_id, "review_hide", post="yes", note="x", confirm="on")

    assert _product_rating(buyer_api, shop, tea.product_id) == (1.0, 1)

"""A bad review's reply deadline is a row of the deadline queue (review_reply) until the shop answers it."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from aftersale.services.reviews import LineReview, reviews_create
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.constants import Role
from tests.conftest import ApiClient
from tests.factories import make_member, make_shop


@pytest.fixture
def bad_review(order_in, tea):
    order = order_in("delivered")
    [review] = reviews_create(order=order, actor=Actor.for_buyer(order.buyer), items=[LineReview(sku_id=tea.pk, rating=2, text="包装破了")])
    return review


def test_a_bad_review_is_listed_with_its_reply_deadline_and_review_id(bad_review, merchant_api):
    status, body = merchant_api.get("/merchant/deadlines?kind=review_reply")

    assert status == 200, body
    [row] = body["deadlines"]
    assert row["review_id"] == bad_review.pk and row["order_no"] == bad_review.order.order_no
    assert row["due_at"] == timezone.localtime(bad_review.reply_deadline).isoformat()
    assert row["overdue"] is False and row["action"] == "reply_review"


def test_a_good_review_has_no_deadline(order_in, tea, cup, merchant_api):
    order = order_in("delivered")
    reviews_create(order=order, actor=Actor.for_buyer(order.buyer), items=[LineReview(sku_id=tea.pk, rating=5, text="好喝")])

    _, body = merchant_api.get("/merchant/deadlines?kind=review_reply&within=7d")

    assert body["deadlines"] == []


def test_an_answered_review_leaves_the_queue(bad_review, merchant_api):
    status, _ = merchant_api.post(f"/merchant/reviews/{bad_review.pk}/reply", {"text": "已补发，抱歉"})
    assert status in (200, 201)

    _, body = merchant_api.get("/merchant/deadlines?kind=review_reply")

    assert body["deadlines"] == []


def test_an_overdue_reply_is_red_on_the_page_with_the_reply_button_for_service_not_warehouse(bad_review, shop):
    type(bad_review).objects.filter(pk=bad_review.pk).update(reply_deadline=timezone.now() - timedelta(hours=1))
    pages = {}
    for role in (Role.SERVICE, Role.WAREHOUSE):
        client = Client()
        client.force_login(make_member(shop, role=role, username=role))
        pages[role] = client.get("/deadlines/?kind=review_reply").content.decode()

    assert '<tr data-kind="review_reply" class="overdue">' in pages[Role.SERVICE]
    assert f'data-action="reply_review" href="/reviews/?review={bad_review.pk}"' in pages[Role.SERVICE]
    assert f"评价 #{bad_review.pk}" in pages[Role.SERVICE]
    assert bad_review.order.order_no in pages[Role.WAREHOUSE] and 'data-action="reply_review"' not in pages[Role.WAREHOUSE]


def test_another_shop_does_not_see_my_review_deadline(bad_review):
    stranger = make_member(make_shop("隔壁店"), username="neighbour")

    _, theirs = ApiClient(stranger.api_token.key).get("/merchant/deadlines?kind=review_reply")

    assert theirs["deadlines"] == []

"""The reviews page (/reviews/) in both languages, its reply and report forms, who may open it, the bell and the dashboard."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from aftersale.models import ProductReview, ReviewReport
from aftersale.services.reviews import LineReview, reviews_create
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.constants import Role
from shop_admin.kernel.todos import todo_feed
from tests.factories import make_member, make_shop


@pytest.fixture
def bad_review(order_in, tea):
    order = order_in("delivered")
    [review] = reviews_create(
        order=order, actor=Actor.for_buyer(order.buyer), items=[LineReview(sku_id=tea.pk, rating=1, text="难喝，加微信返现")]
    )
    return review


def _signed_in(user, language: str = "zh-hans") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.mark.parametrize(("language", "title", "reason"), [("zh-hans", "评价管理", "恶意索要好处"), ("en", "Reviews", "Extortion")])
def test_the_page_lists_the_shops_reviews_in_both_languages(bad_review, owner, language, title, reason):
    page = _signed_in(owner, language).get("/reviews/")
    html = page.content.decode()
    assert page.status_code == 200
    assert title in html and "难喝，加微信返现" in html and reason in html
    assert f'data-review="{bad_review.pk}"' in html


def test_the_filters_narrow_the_list(bad_review, owner, order_in, cup):
    console = _signed_in(owner)
    assert f'data-review="{bad_review.pk}"' in console.get("/reviews/?rating_max=2&replied=0").content.decode()
    assert f'data-review="{bad_review.pk}"' not in console.get("/reviews/?rating=5").content.decode()
    assert f'data-review="{bad_review.pk}"' not in console.get("/reviews/?with_images=1").content.decode()
    assert f'data-review="{bad_review.pk}"' not in console.get("/reviews/?sku=NO-SUCH-SKU").content.decode()
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert f'data-review="{bad_review.pk}"' not in console.get(f"/reviews/?created_from={tomorrow}").content.decode()


def test_the_owner_replies_through_the_form_once(bad_review, owner):
    console = _signed_in(owner)
    answer = console.post(f"/reviews/{bad_review.pk}/reply/", {"text": "非常抱歉，已联系您处理", "back": "replied=0"})
    assert answer.status_code == 302 and answer["Location"] == "/reviews/?replied=0"
    assert ProductReview.objects.get(pk=bad_review.pk).reply_text == "非常抱歉，已联系您处理"

    again = console.post(f"/reviews/{bad_review.pk}/reply/", {"text": "再回复一次"}, follow=True)
    assert "每条评价只能回复一次" in again.content.decode()


def test_a_refused_report_keeps_what_was_typed(bad_review, owner):
    console = _signed_in(owner)
    page = console.post(
        f"/reviews/{bad_review.pk}/report/", {"reason": "extortion", "description": "索要返现", "evidence": "not-a-link"}, follow=True
    )
    html = page.content.decode()
    assert "凭证须为 http(s) 链接" in html and "索要返现" in html
    assert not ReviewReport.objects.exists()

    console.post(
        f"/reviews/{bad_review.pk}/report/",
        {"reason": "extortion", "description": "索要返现", "evidence": "https://img.example.com/chat.png"},
    )
    report = ReviewReport.objects.get(review=bad_review)
    assert (report.reason, report.evidence) == ("extortion", ["https://img.example.com/chat.png"])


def test_customer_service_may_open_it_and_the_warehouse_may_not(bad_review, shop):
    service = _signed_in(make_member(shop, role=Role.SERVICE, username="cs"))
    warehouse = _signed_in(make_member(shop, role=Role.WAREHOUSE, username="wh"))

    assert service.get("/reviews/").status_code == 200
    assert 'href="/reviews/"' in service.get("/").content.decode()
    assert warehouse.get("/reviews/").status_code == 403
    assert 'href="/reviews/"' not in warehouse.get("/").content.decode()
    assert warehouse.post(f"/reviews/{bad_review.pk}/reply/", {"text": "x"}).status_code == 403


def test_another_shop_neither_sees_nor_answers_the_review(bad_review):
    stranger = _signed_in(make_member(make_shop("隔壁店"), username="stranger"))
    assert f'data-review="{bad_review.pk}"' not in stranger.get("/reviews/").content.decode()
    assert stranger.post(f"/reviews/{bad_review.pk}/reply/", {"text": "x"}).status_code == 404
    assert stranger.post(f"/reviews/{bad_review.pk}/report/", {"reason": "abusive"}).status_code == 404
    assert not ProductReview.objects.filter(pk=bad_review.pk, replied_at__isnull=False).exists()


def test_a_bad_review_is_a_to_do_with_the_reply_deadline_until_answered(bad_review, owner, shop):
    feed = todo_feed(user_id=owner.pk, shop_id=shop.pk, now=timezone.now())
    [item] = [e.item for e in feed.entries if e.item.key == f"review_bad:{bad_review.pk}"]
    assert item.deadline == bad_review.reply_deadline == bad_review.created_at + timedelta(hours=24)

    _signed_in(owner).post(f"/reviews/{bad_review.pk}/reply/", {"text": "已处理"})

    feed = todo_feed(user_id=owner.pk, shop_id=shop.pk, now=timezone.now())
    assert not [e for e in feed.entries if e.item.key.startswith("review_")]


def test_the_dashboard_shows_the_bad_review_tile_score_and_rate(bad_review, owner):
    html = _signed_in(owner).get("/").content.decode()
    assert "待回复差评" in html
    assert 'id="review-score"' in html and "100.0%" in html

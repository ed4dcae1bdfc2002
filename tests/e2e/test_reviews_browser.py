"""Reviews in a real browser, in Chinese and in English: the owner filters the shop's reviews (bad ones, not yet
answered, with images), answers one, and reports an extortion review for the platform to decide."""
import re

import pytest
from playwright.sync_api import expect

from aftersale.models import ProductReview, ReviewReport
from tests import factories
from tests.conftest import ApiClient
from tests.e2e.tools_helpers import language_switch, order_completed

pytestmark = pytest.mark.django_db(transaction=True)


def _review(buyer_api, order, sku, rating: int, text: str, images=()) -> ProductReview:
    status, body = buyer_api.post(
        f"/orders/{order.order_no}/reviews", {"items": [{"sku_id": sku.pk, "rating": rating, "text": text, "images": list(images)}]}
    )
    assert status == 201, body
    return ProductReview.objects.get(pk=body[0]["id"])


def _filter(page, button: str, **choices) -> None:
    form = page.locator("form.filters")
    for label, option in choices.items():
        # a label of the filter row ends with the language's colon (Django's label suffix)
        form.get_by_label(re.compile(rf"^{re.escape(label)}\s*[:：]?$")).select_option(label=option)
    with page.expect_navigation(wait_until="load"):
        form.get_by_role("button", name=button).click()


def test_owner_filters_answers_and_reports_reviews_through_the_page(browser_session):
    # given: three reviews of two received orders
    shop = factories.make_shop("评价测试店")
    owner = factories.make_member(shop, username="rv_owner")
    tea = factories.make_sku(shop, price="59.90", stock=20, name="蜂蜜柚子茶")
    cup = factories.make_sku(shop, price="20.00", stock=20, name="玻璃杯")
    buyer_api = ApiClient(factories.make_buyer("rv_buyer").api_token)
    first = order_completed(shop=shop, owner=owner, buyer_api=buyer_api, items=[(tea, 1), (cup, 1)], tracking_no="73100002000001")
    second = order_completed(shop=shop, owner=owner, buyer_api=buyer_api, items=[(tea, 1)], tracking_no="73100002000002")
    broken = _review(buyer_api, first, tea, 1, "瓶子碎了，差评")
    praised = _review(buyer_api, first, cup, 5, "很透亮", images=["https://img.example.invalid/cup.jpg"])
    extortion = _review(buyer_api, second, tea, 2, "不返现就一直差评")
    session = browser_session
    page = session.page
    session.sign_in("rv_owner", "pw-123456")

    # when (zh): the bad reviews only
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="评价").click()
    rows = page.locator("#review-table tbody tr[data-review]")
    expect(rows).to_have_count(3)
    _filter(page, "筛选", 差评="差评（2星及以下）")
    expect(rows).to_have_count(2)
    expect(page.locator(f'tr[data-review="{praised.pk}"]')).to_have_count(0)

    # and the broken bottle answered
    row = page.locator(f'tr[data-review="{broken.pk}"]')
    row.get_by_label("回复内容").fill("抱歉，已为您补发一瓶")
    with page.expect_navigation(wait_until="load"):
        row.get_by_role("button", name="回复", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("已回复评价")
    expect(page.locator(f'tr[data-review="{broken.pk}"]')).to_contain_text("抱歉，已为您补发一瓶")
    assert ProductReview.objects.get(pk=broken.pk).reply_text == "抱歉，已为您补发一瓶"
    _filter(page, "筛选", 回复="未回复")
    expect(rows).to_have_count(1)
    expect(page.locator(f'tr[data-review="{extortion.pk}"]')).to_be_visible()

    # when (en): the reviews with images, then the extortion reported
    language_switch(page, now="zh-hans", to="en")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Reviews").click()
    _filter(page, "Filter", **{"With images": "With images"})
    expect(rows).to_have_count(1)
    expect(page.locator(f'tr[data-review="{praised.pk}"]')).to_contain_text("很透亮")
    _filter(page, "Filter", **{"With images": "All", "Reply": "Not replied"})
    row = page.locator(f'tr[data-review="{extortion.pk}"]')
    row.get_by_text("Report", exact=True).click()  # the report form folds out
    row.get_by_label("Reason").select_option(label="Extortion")
    row.get_by_label("Description").fill("买家以差评要挟返现")
    row.get_by_label("Evidence links (one per line)").fill("https://img.example.invalid/chat.png")
    with page.expect_navigation(wait_until="load"):
        row.get_by_role("button", name="Send report").click()

    # then: sent to the platform, shown on the row
    expect(page.locator(".messages")).to_contain_text("Report sent; the platform will decide")
    expect(page.locator(f'tr[data-review="{extortion.pk}"]')).to_contain_text("Extortion · Waiting for the platform")
    report = ReviewReport.objects.get(review_id=extortion.pk)
    assert report.reason == "extortion" and report.evidence == ["https://img.example.invalid/chat.png"]
    assert session.js_errors == [] and session.failed_requests == []

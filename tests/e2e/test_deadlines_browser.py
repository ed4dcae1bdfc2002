"""The deadline queue in a real browser: the merchant opens 到期待办 from the navigation, sees an overdue ship-by first
and in red, narrows the list by kind and to 2 h with the tabs, and its action button leads to the order to ship.

The demo's data is the shop's (`demo`); the ORM picks a paid order and moves its ship-by before every other deadline of
the shop, which is what the clock would show had the merchant let it pass.
"""
from datetime import timedelta

import pytest
from django.db.models import Min
from django.utils import timezone
from playwright.sync_api import expect

from orders.constants import OrderStatus
from orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

SHOP_1 = "抖店演示旗舰店"


def test_merchant_finds_an_overdue_ship_by_first_filters_the_queue_and_goes_to_ship(demo, browser_session):
    order = Order.objects.filter(shop__name=SHOP_1, status=OrderStatus.PAID, on_hold=False).order_by("pk").first()
    assert order is not None, "seed_demo made no paid order in shop 1"
    # Before every other deadline of the shop (the demo has overdue ones of its own): the queue's first row.
    earliest = Order.objects.filter(shop=order.shop, ship_deadline__isnull=False).aggregate(m=Min("ship_deadline"))["m"]
    Order.objects.filter(pk=order.pk).update(ship_deadline=min(earliest, timezone.now()) - timedelta(hours=1))
    page = browser_session.page
    browser_session.sign_in("merchant")

    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="到期待办").first.click()
    rows = page.locator("#deadline-table tbody tr")
    expect(rows.first).to_contain_text(order.order_no)
    expect(rows.first).to_have_class("overdue")
    expect(rows.first).to_contain_text("已超时")

    with page.expect_navigation(wait_until="load"):
        page.locator("nav.tabs a", has_text="发货截止").click()
    expect(page.locator("nav.tabs a[aria-current=page]", has_text="发货截止")).to_be_visible()
    assert set(rows.evaluate_all("rows => rows.map(r => r.dataset.kind)")) == {"ship"}
    with page.expect_navigation(wait_until="load"):
        page.locator("nav.tabs a", has_text="2h 内").click()
    expect(rows.first).to_contain_text(order.order_no)

    with page.expect_navigation(wait_until="load"):
        rows.filter(has_text=order.order_no).get_by_role("link", name="去发货").click()
    assert page.url == browser_session.url(f"/orders/{order.order_no}/")
    expect(page.locator("#order-status")).to_have_text("待发货")
    assert browser_session.js_errors == []

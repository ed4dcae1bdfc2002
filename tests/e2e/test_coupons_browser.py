"""Coupons in a real browser: the owner finds them in the navigation, creates one through the form, sees its chart
drawn, ends it after the confirmation, and reads the list in English."""
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orders.models import Coupon
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_owner_creates_and_ends_a_coupon_through_the_pages(browser_session):
    shop = factories.make_shop("券测试店")
    sku = factories.make_sku(shop, price="120.00", name="蜂蜜柚子茶")
    factories.make_member(shop, username="coupon_owner")
    session = browser_session
    page = session.page
    session.sign_in("coupon_owner", "pw-123456")

    # when: through the navigation to the create form
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="优惠券管理").click()
    page.get_by_role("link", name="创建优惠券").click()
    page.get_by_label("名称").fill("满100减10")
    page.get_by_label("指定SKU").check()
    page.get_by_label(f"{sku.product.name} {sku.spec} ({sku.code})").check()
    page.get_by_label("使用门槛（元）").fill("100.00")
    page.get_by_label("面额（元）").fill("10.00")
    start = timezone.localtime()
    page.get_by_label("生效时间").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("失效时间").fill((start + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("发行总量").fill("100")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="创建", exact=True).click()

    # then: the coupon's page, its chart drawn by Chart.js
    coupon = Coupon.objects.get(shop=shop)
    assert coupon.scope == "skus" and list(coupon.skus.all()) == [sku] and coupon.total_quantity == 100
    expect(page.locator("h1")).to_contain_text(coupon.code)
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-coupon'))")

    # when: ended after the confirmation
    page.get_by_role("link", name="结束活动").click()
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="确认结束").click()
    expect(page.locator("h1 .badge")).to_have_text("已结束")
    assert Coupon.objects.get(pk=coupon.pk).state == Coupon.State.ENDED

    # and the list reads in English
    session.goto("/marketing/coupons/")
    with page.expect_navigation(wait_until="load"):
        page.get_by_label("语言").select_option("en")
    expect(page.locator("h1")).to_contain_text("Coupons")
    expect(page.get_by_role("link", name="Ended (1)")).to_be_visible()
    assert session.js_errors == [] and session.failed_requests == []


def test_owner_creates_a_discount_coupon_in_english_and_the_list_says_its_rate(browser_session):
    shop = factories.make_shop("折扣券测试店")
    factories.make_member(shop, username="rate_owner")
    session = browser_session
    page = session.page
    session.sign_in("rate_owner", "pw-123456")
    session.goto("/marketing/coupons/new/")
    with page.expect_navigation(wait_until="load"):
        page.get_by_label("语言").select_option("en")

    # when: a 8.5折 coupon with a cap of its own, a 折 typed wrong first
    page.get_by_label("Name").fill("Weekend 8.5折")
    page.get_by_label("Discount (pay part of the price)").check()
    page.get_by_label("Threshold (yuan)").fill("50.00")
    page.get_by_label("Discount (折)").fill("85")
    page.get_by_label("At most off (yuan)").fill("20.00")
    start = timezone.localtime()
    page.get_by_label("Valid from").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Valid until").fill((start + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Total quantity").fill("100")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#coupon-form .error")).to_contain_text("0.1 to 9.9折")
    expect(page.get_by_label("Discount (折)")).to_have_value("85")
    assert not Coupon.objects.filter(shop=shop).exists()
    page.get_by_label("Discount (折)").fill("8.5")
    page.get_by_label("Valid from").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Valid until").fill((start + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Create", exact=True).click()

    # then: stored as the part paid, shown in 折 with its cap
    coupon = Coupon.objects.get(shop=shop)
    assert str(coupon.discount_rate) == "0.85" and str(coupon.discount) == "20.00"
    expect(page.locator("dl.kv").first).to_contain_text("pay 8.5/10 of the price (8.5折), at most ¥20.00 off")
    assert session.js_errors == [] and session.failed_requests == []

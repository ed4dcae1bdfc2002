"""The team and the shop's settings in a real browser, in Chinese and in English: the owner adds staff by username,
changes their role and disables them, is stopped from locking out the last owner; sets the ship promise, and a value
outside the platform's bounds is named on its field with what was typed kept."""
import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from shop_admin.kernel.constants import Role
from shop_admin.kernel.models import Membership, ShopEvent, ShopRules
from tests import factories
from tests.e2e.tools_helpers import language_switch

pytestmark = pytest.mark.django_db(transaction=True)


def test_owner_manages_the_team_and_cannot_lock_out_the_last_owner(browser_session):
    shop = factories.make_shop("子账号测试店")
    owner = factories.make_member(shop, username="tm_owner")
    get_user_model().objects.create_user(username="tm_clerk", password="pw-123456")
    session = browser_session
    page = session.page
    session.sign_in("tm_owner", "pw-123456")

    # when (zh): from the settings index, a clerk added by username as customer service
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="设置").click()
    page.get_by_role("link", name="子账号").click()
    adding = page.locator("#member-add")
    adding.get_by_label("用户名").fill("tm_clerk")
    adding.get_by_label("角色").select_option(label="客服")
    with page.expect_navigation(wait_until="load"):
        adding.get_by_role("button", name="添加", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("已添加成员 tm_clerk")
    clerk = Membership.objects.get(shop=shop, user__username="tm_clerk")
    assert clerk.role == Role.SERVICE and clerk.is_active

    # and the owner's own row cannot be the last owner turned into staff
    mine = page.locator(f"#member-{Membership.objects.get(shop=shop, user=owner).pk}")
    mine.get_by_label("角色").select_option(label="客服")
    with page.expect_navigation(wait_until="load"):
        mine.get_by_role("button", name="修改角色").click()
    expect(page.locator(".messages")).to_contain_text("店铺至少要保留一名启用的店主")

    # when (en): the clerk moved to the warehouse, then disabled
    language_switch(page, now="zh-hans", to="en")
    row = page.locator(f"#member-{clerk.pk}")
    row.get_by_label("Role").select_option(label="Warehouse")
    with page.expect_navigation(wait_until="load"):
        row.get_by_role("button", name="Change role").click()
    expect(page.locator(".messages")).to_contain_text("Role of tm_clerk changed")
    with page.expect_navigation(wait_until="load"):
        page.locator(f"#member-{clerk.pk}").get_by_role("button", name="Disable").click()
    expect(page.locator(".messages")).to_contain_text("tm_clerk disabled")
    expect(page.locator(f"#member-{clerk.pk}")).to_contain_text("Disabled")

    # and disabling the last owner is refused, in English
    with page.expect_navigation(wait_until="load"):
        page.locator(f"#member-{Membership.objects.get(shop=shop, user=owner).pk}").get_by_role("button", name="Disable").click()
    expect(page.locator(".messages")).to_contain_text("A shop keeps at least one active owner")

    # then: the owner is still the active owner, the clerk a disabled warehouse member, every change audited
    assert Membership.objects.filter(shop=shop, user=owner, role=Role.OWNER, is_active=True).exists()
    clerk.refresh_from_db()
    assert clerk.role == Role.WAREHOUSE and not clerk.is_active
    assert ShopEvent.objects.filter(shop=shop).count() >= 3
    assert session.js_errors == [] and session.failed_requests == []


def test_owner_sets_the_ship_promise_and_an_out_of_bounds_value_is_named_and_kept(browser_session):
    shop = factories.make_shop("店铺设置测试店")
    factories.make_member(shop, username="st_owner")
    session = browser_session
    page = session.page
    session.sign_in("st_owner", "pw-123456")

    # when (zh): the ship promise set to 24 hours
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="设置").click()
    page.get_by_role("link", name="店铺设置").click()
    page.get_by_label("发货时效（小时）").fill("24")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("店铺设置已保存")
    expect(page.get_by_label("发货时效（小时）")).to_have_value("24")
    assert ShopRules.objects.get(shop=shop).ship_promise_hours == 24

    # and (zh) a recovery window past the platform's 72 h is named on its field
    page.get_by_label("订单召回时限（小时）").fill("100")
    page.get_by_role("button", name="保存").click()
    recovery = page.locator("#shop-rules p", has=page.get_by_label("订单召回时限（小时）"))
    expect(recovery.locator(".error")).to_contain_text("须在平台允许的")
    expect(page.get_by_label("订单召回时限（小时）")).to_have_value("100")

    # when (en): a promise the platform does not offer
    language_switch(page, now="zh-hans", to="en")
    page.get_by_label("Ship promise (hours)").fill("36")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Save").click()

    # then: the field names the allowed values, keeps what was typed, and nothing changed
    promise = page.locator("#shop-rules p", has=page.get_by_label("Ship promise (hours)"))
    expect(promise.locator(".error")).to_contain_text("Choose one of 24 / 48 / 72")
    expect(page.get_by_label("Ship promise (hours)")).to_have_value("36")
    rules = ShopRules.objects.get(shop=shop)
    assert rules.ship_promise_hours == 24 and rules.recovery_window_hours is None
    assert session.js_errors == [] and session.failed_requests == []

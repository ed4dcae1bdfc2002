"""Return addresses in a real browser, in Chinese and in English: the owner adds the shop's addresses, makes another
one the default, and agreeing to a return on the workbench picks the default and shows it on the case."""
import pytest
from playwright.sync_api import expect

from aftersale.models import AfterSaleCase, ReturnAddress
from tests import factories
from tests.conftest import ApiClient
from tests.e2e.tools_helpers import language_switch, order_delivered

pytestmark = pytest.mark.django_db(transaction=True)


def _fill(form, labels: tuple[str, ...], values: tuple[str, ...]) -> None:
    for label, value in zip(labels, values, strict=True):
        form.get_by_label(label, exact=True).fill(value)


def test_owner_keeps_return_addresses_and_agreeing_to_a_return_uses_the_default(browser_session):
    # given: a delivered order whose buyer asks to return it
    shop = factories.make_shop("退货地址测试店")
    owner = factories.make_member(shop, username="ra_owner")
    sku = factories.make_sku(shop, price="88.00", stock=5, name="退货测试茶具")
    buyer_api = ApiClient(factories.make_buyer("ra_buyer").api_token)
    order = order_delivered(shop=shop, owner=owner, buyer_api=buyer_api, items=[(sku, 1)], tracking_no="73100001234567")
    status, case = buyer_api.post(f"/orders/{order.order_no}/aftersales", {"type": "return_refund", "reason": "质量问题",
                                                                            "evidence": ["https://img.example.invalid/crack.jpg"]})
    assert status == 201, case
    session = browser_session
    page = session.page
    session.sign_in("ra_owner", "pw-123456")

    # when (zh): from the settings index to the address book, the first address added
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="设置").click()
    page.get_by_role("link", name="退货地址").click()
    [initial] = ReturnAddress.objects.filter(shop=shop)  # the shop's own default since it opened
    expect(page.locator(f"#return-address-{initial.pk} .badge")).to_have_text("默认")
    form = page.locator("#return-address-form")
    _fill(form, ("收件人", "手机号", "省", "市", "区", "详细地址"), ("仓前退货点", "13800000001", "浙江省", "杭州市", "余杭区", "仓前街道梦想小镇1号"))
    with page.expect_navigation(wait_until="load"):
        form.get_by_role("button", name="添加", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("退货地址已添加")
    first = ReturnAddress.objects.get(shop=shop, name="仓前退货点")
    expect(page.locator(f"#return-address-{first.pk}")).to_contain_text("仓前街道梦想小镇1号")
    expect(page.locator(f"#return-address-{first.pk} .badge")).to_have_count(0)  # added without asking: not the default

    # when (en): a second address, then made the default
    language_switch(page, now="zh-hans", to="en")
    form = page.locator("#return-address-form")
    _fill(form, ("Recipient", "Phone", "Province", "City", "District", "Street address"),
          ("售后部", "13800000002", "广东省", "广州市", "天河区", "体育西路1号"))
    with page.expect_navigation(wait_until="load"):
        form.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Return address added")
    second = ReturnAddress.objects.get(shop=shop, name="售后部")
    expect(page.locator(f"#return-address-{second.pk} .badge")).to_have_count(0)
    with page.expect_navigation(wait_until="load"):
        page.locator(f"#return-address-{second.pk}").get_by_role("button", name="Make default").click()
    expect(page.locator(".messages")).to_contain_text("Made the default return address")
    expect(page.locator(f"#return-address-{second.pk} .badge")).to_have_text("Default")
    expect(page.locator(f"#return-address-{initial.pk} .badge")).to_have_count(0)

    # then (en): the case offers the default first, and agreeing sends the buyer that address
    session.goto(f"/aftersales/{case['id']}/")
    chooser = page.locator("select[name=return_address_id]")
    expect(chooser).to_have_value(str(second.pk))
    expect(chooser.locator("option:checked")).to_contain_text("(default)")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Agree", exact=True).click()
    agreed = AfterSaleCase.objects.get(pk=case["id"])
    assert agreed.status == "awaiting_return" and "体育西路1号" in agreed.return_address and "售后部" in agreed.return_address
    expect(page.locator("dl")).to_contain_text("体育西路1号")

    # and (zh): the same case page names it the return address
    language_switch(page, now="en", to="zh-hans")
    expect(page.locator("dt", has_text="退货地址")).to_be_visible()
    status, seen = buyer_api.get(f"/aftersales/{case['id']}")
    assert status == 200 and "体育西路1号" in str(seen)  # the buyer's case view shows where to send it
    assert session.js_errors == [] and session.failed_requests == []

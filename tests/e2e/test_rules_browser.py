"""After-sale rules in a real browser: the owner finds them under the settings, is refused an amount past the platform's cap
with what was typed kept, dry-runs the rule over the shop's real cases, saves it, enables it, and sees the next case
approved by it."""
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from aftersale.models import AfterSaleCase, AfterSaleRule
from orders.services.lifecycle import order_mark_delivered
from shop_admin.kernel.actors import Actor
from tests import factories
from tests.conftest import ApiClient

pytestmark = pytest.mark.django_db(transaction=True)


def _delivered_case(shop, sku, buyer, amount: str) -> int:
    """An order placed, paid, shipped and signed, then a refund-only claim of `amount` on it, all through the APIs."""
    from orders.models import Order

    buyer_api, merchant_api, anonymous = ApiClient(buyer.api_token), ApiClient(shop.owner_token), ApiClient()
    status, order = buyer_api.post("/orders", factories.order_payload(shop, (sku, 1)))
    assert status == 201, order
    status, payment = buyer_api.post(f"/orders/{order['order_no']}/payments", {"channel": "douyin_pay"})
    assert status == 201, payment
    body = factories.callback_body(payment, txn=f"E2E-{payment['payment_id']}")
    assert anonymous.post("/callbacks/payment", raw=body, headers=factories.signed_headers(body, settings.PAYMENT_CALLBACK_SECRET))[0] == 200
    tracking_no = f"7310{payment['payment_id']:08d}"
    assert merchant_api.post(f"/merchant/orders/{order['order_no']}/ship", {"carrier": "ZTO", "tracking_no": tracking_no})[0] == 200
    order_mark_delivered(order=Order.objects.get(order_no=order["order_no"]), actor=Actor.channel("ZTO"))
    status, case = buyer_api.post(
        f"/orders/{order['order_no']}/aftersales", {"type": "refund_only", "reason": "质量问题", "amount": amount, "evidence": []}
    )
    assert status == 201, case
    return case["id"]


def test_owner_dry_runs_saves_and_enables_a_rule_that_then_approves_a_new_case(browser_session):
    shop = factories.make_shop("规则测试店")
    sku = factories.make_sku(shop, price="39.90", stock=20, name="蜂蜜柚子茶")
    owner = factories.make_member(shop, username="rules_owner")
    shop.owner_token = owner.api_token.key
    buyer = factories.make_buyer("rules_buyer")
    earlier = _delivered_case(shop, sku, buyer, "25.00")
    session = browser_session
    page = session.page
    session.sign_in("rules_owner", "pw-123456")

    # when: from the settings to a new rule, with an amount past the platform's cap
    session.goto("/settings/")
    page.get_by_role("link", name="售后自动审核").click()
    page.get_by_role("link", name="新建规则").click()
    page.get_by_label("规则名称").fill("小额仅退款秒退")
    page.get_by_label("仅退款").check()
    page.get_by_label("已签收").check()
    page.get_by_label("金额上限（元）").fill("500.00")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="保存").click()

    # then: refused at that field, what was typed still there
    expect(page.locator("#field-max_amount .error")).to_contain_text("不能超过平台上限")
    expect(page.get_by_label("规则名称")).to_have_value("小额仅退款秒退")
    expect(page.get_by_label("仅退款")).to_be_checked()
    assert not AfterSaleRule.objects.exists()

    # when: a dry run of the corrected rule
    page.get_by_label("金额上限（元）").fill("30.00")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="试运行").click()

    # then: the earlier case counted, with its money, its type and a link to it; nothing written
    expect(page.locator("#dry-run-matched")).to_have_text("1")
    expect(page.locator("#dry-run-amount")).to_contain_text("25.00")
    expect(page.locator("#dry-run-by-type")).to_contain_text("仅退款：1")
    expect(page.locator(".dry-run-sample")).to_have_text(f"#{earlier}")
    assert not AfterSaleRule.objects.exists() and AfterSaleCase.objects.get(pk=earlier).status == "requested"

    # when: saved (not enabled yet), then enabled from the list
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="保存").click()
    rule = AfterSaleRule.objects.get(shop=shop)
    row = page.locator(f"#rule-{rule.pk}")
    expect(row).to_contain_text("未启用")
    with page.expect_navigation(wait_until="load"):
        row.get_by_role("button", name="启用").click()
    expect(row).to_contain_text("已启用")
    assert AfterSaleRule.objects.get(pk=rule.pk).enabled

    # then: the next matching case is approved by it (the sweep, as when a wake-up is lost), and its page says so
    later = _delivered_case(shop, sku, buyer, "20.00")
    call_command("sweep_deadlines", stdout=StringIO())
    assert AfterSaleCase.objects.get(pk=later).status == "refunded"
    assert AfterSaleCase.objects.get(pk=earlier).status == "requested"  # opened before the rule: left to the merchant
    session.goto(f"/aftersales/{later}/")
    expect(page.locator("#approved-by-rule")).to_contain_text("小额仅退款秒退")
    assert session.js_errors == [] and session.failed_requests == []

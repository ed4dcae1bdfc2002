"""Platform arbitration end to end in a real browser: the merchant rejects a case with a reason on the workbench, the
buyer takes it to the platform through the buyer API, the arbitrator rules in the Django admin (the action and its
confirmation page), and the merchant sees the ruling on the case page.

The order and the case are made as a buyer and a carrier would (buyer API, signed payment callback, merchant open
API, the carrier's signed-for service); every decision of the merchant and the arbitrator is a click in the browser.
"""
import pytest
from django.conf import settings
from playwright.sync_api import expect

from aftersale.models import AfterSaleCase
from orders.models import Order
from orders.services.lifecycle import order_mark_delivered
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.models import MerchantApiToken, Shop
from tests import factories
from tests.conftest import ApiClient
from tests.e2e.conftest import TIMEOUT_MS, BrowserSession

pytestmark = pytest.mark.django_db(transaction=True)

SHOP_1 = "抖店演示旗舰店"
EVIDENCE = "https://example.invalid/evidence/outbound.jpg"


def delivered_case(shop: Shop) -> tuple[ApiClient, int]:
    """A delivered order of shop 1 with a return-and-refund case the merchant has not answered; the buyer's client and the case id."""
    buyer_api = ApiClient(factories.make_buyer("e2e_dispute_buyer").api_token)
    merchant_api = ApiClient(MerchantApiToken.objects.get_or_create(user=shop.memberships.get(user__username="merchant").user)[0].key)
    sku = factories.make_sku(shop, price="88.00", stock=5, name="仲裁测试茶具")
    status, placed = buyer_api.post("/orders", factories.order_payload(shop, (sku, 1)))
    assert status == 201, placed
    status, payment = buyer_api.post(f"/orders/{placed['order_no']}/payments", {"channel": "douyin_pay"})
    assert status == 201, payment
    body = factories.callback_body(payment, txn=f"TXN-E2E-ARB-{payment['payment_id']}")
    status, result = ApiClient().post("/callbacks/payment", raw=body, headers=factories.signed_headers(body, settings.PAYMENT_CALLBACK_SECRET))
    assert status == 200, result
    status, shipped = merchant_api.post(f"/merchant/orders/{placed['order_no']}/ship", {"carrier": "ZTO", "tracking_no": "73100009876543"})
    assert status == 200, shipped
    order_mark_delivered(order=Order.objects.get(order_no=placed["order_no"]), actor=Actor.channel("ZTO"))
    status, case = buyer_api.post(
        f"/orders/{placed['order_no']}/aftersales",
        {"type": "return_refund", "reason": "质量问题", "description": "杯口有裂纹", "evidence": [EVIDENCE]},
    )
    assert status == 201, case
    return buyer_api, case["id"]


def test_merchant_rejects_buyer_escalates_arbitrator_rules_merchant_sees_the_ruling(demo, browser, live_server):
    buyer_api, case_id = delivered_case(Shop.objects.get(name=SHOP_1))

    def session_for() -> BrowserSession:
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        return BrowserSession(context, live_server.url)

    merchant = session_for()
    arbiter = session_for()
    try:
        # 1. The merchant rejects on the workbench, with a reason and evidence.
        merchant.sign_in("merchant")
        merchant.goto(f"/aftersales/{case_id}/")
        page = merchant.page
        expect(page.locator("#case-status")).to_have_text("待商家处理")
        reject = page.locator("form", has=page.locator("input[name=action][value=reject]"))
        reject.get_by_label("拒绝原因").fill("出库前已验货，杯口完好")
        reject.get_by_label("凭证链接（每行一个）").fill(EVIDENCE)
        with page.expect_navigation(wait_until="load"):
            reject.get_by_role("button", name="拒绝").click()
        expect(page.locator("#case-status")).to_have_text("商家已拒绝")
        expect(page.get_by_role("region", name="买家申请")).to_contain_text("出库前已验货，杯口完好")

        # 2. The buyer takes it to the platform.
        status, escalated = buyer_api.post(f"/aftersales/{case_id}/arbitration", {"reason": "收到时杯口就有裂纹，有开箱视频"})
        assert status == 201, escalated
        assert escalated["status"] == "arbitrating"

        # 3. The arbitrator finds it in the admin's dispute queue and rules for the buyer, confirming on the second page.
        arbiter.goto("/admin/login/")
        admin = arbiter.page
        admin.get_by_label("用户名").fill("arbiter")
        admin.get_by_label("密码").fill("demo12345")
        with admin.expect_navigation(wait_until="load"):
            admin.get_by_role("button", name="登录").click()
        arbiter.goto("/admin/aftersale/aftersalecase/")
        row = admin.locator("#result_list tbody tr", has=admin.locator(f"input[name=_selected_action][value='{case_id}']"))
        expect(row).to_contain_text("平台仲裁中")
        row.locator("input[name=_selected_action]").check()
        admin.locator("select[name=action]").select_option("rule_for_buyer")
        with admin.expect_navigation(wait_until="load"):
            admin.get_by_role("button", name="执行").click()
        expect(admin.locator("#content")).to_contain_text("不可撤销")
        expect(admin.locator("#content")).to_contain_text(f"#{case_id}")
        assert AfterSaleCase.objects.get(pk=case_id).status == "arbitrating"  # the first click decides nothing
        admin.get_by_label("仲裁说明").fill("开箱视频显示收货时已破损，支持买家")
        admin.get_by_label("商家扣分").fill("2")
        admin.get_by_label("我已核对订单、凭证与留言，确认裁决（不可撤销）").check()
        with admin.expect_navigation(wait_until="load"):
            admin.get_by_role("button", name="确认裁决").click()
        expect(admin.locator(".messagelist")).to_contain_text("已裁决 1 个售后单")

        # 4. The merchant sees the ruling on the case page.
        merchant.goto(f"/aftersales/{case_id}/")
        claim = page.get_by_role("region", name="买家申请")
        expect(claim).to_contain_text("仲裁结果")
        expect(claim).to_contain_text("支持买家：强制退款")
        expect(claim).to_contain_text("开箱视频显示收货时已破损，支持买家")
        expect(page.locator("#case-status")).not_to_have_text("平台仲裁中")
        expect(page.locator("#timeline, .timeline").first).to_contain_text("仲裁")
        case = AfterSaleCase.objects.get(pk=case_id)
        assert case.ruling == "for_buyer" and case.refund is not None
        assert merchant.js_errors == [] and arbiter.js_errors == []
    finally:
        merchant.context.close()
        arbiter.context.close()

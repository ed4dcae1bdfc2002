"""After-sale cases as far as this wave goes: opened with a reply deadline, counted on the dashboard, shown to the ERP."""
from datetime import timedelta

import pytest
from django.test import Client

from aftersale.models import AfterSaleCase
from aftersale.services import aftersale_open
from orders.models import Order
from orders.services.lifecycle import order_mark_delivered
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.errors import Conflict
from tests.factories import make_sku


@pytest.fixture
def delivered(shop, sku, place_order, pay, merchant_api):
    order = place_order((sku, 1))
    pay(order["order_no"])
    merchant_api.post(f"/merchant/orders/{order['order_no']}/ship", {"carrier": "ZTO", "tracking_no": "73100000000321"})
    return order_mark_delivered(order=Order.objects.get(order_no=order["order_no"]), actor=Actor.channel("ZTO"))


def test_a_case_gives_the_merchant_24_hours_and_is_on_the_order(delivered, buyer, merchant_api):
    case = aftersale_open(order=delivered, actor=Actor.for_buyer(buyer), case_type="refund_only", reason="商品破损")
    assert case.status == "requested"
    assert case.reply_deadline - case.created_at == pytest.approx(timedelta(hours=24), abs=timedelta(seconds=5))
    status, detail = merchant_api.get(f"/merchant/orders/{delivered.order_no}")
    assert detail["after_sales"] == [
        {"id": case.pk, "type": "refund_only", "status": "requested", "reply_deadline": detail["after_sales"][0]["reply_deadline"]}
    ]
    assert any(e["kind"] == "aftersale_opened" for e in detail["events"])


def test_fresh_goods_get_12_hours(shop, buyer, place_order, pay):
    order = place_order((make_sku(shop, is_fresh=True), 1))
    pay(order["order_no"])
    case = aftersale_open(
        order=Order.objects.get(order_no=order["order_no"]), actor=Actor.for_buyer(buyer), case_type="refund_only", reason="坏果"
    )
    assert case.reply_deadline - case.created_at == pytest.approx(timedelta(hours=12), abs=timedelta(seconds=5))


def test_unpaid_order_cannot_open_a_case(sku, buyer, place_order):
    order = Order.objects.get(order_no=place_order((sku, 1))["order_no"])
    with pytest.raises(Conflict):
        aftersale_open(order=order, actor=Actor.for_buyer(buyer), case_type="refund_only", reason="不想要")
    assert not AfterSaleCase.objects.exists()


def test_dashboard_counts_cases_waiting_with_the_nearest_deadline_and_charts_the_rate(delivered, buyer, owner):
    import json

    aftersale_open(order=delivered, actor=Actor.for_buyer(buyer), case_type="return_refund", reason="与描述不符")
    client = Client()
    client.force_login(owner)
    page = client.get("/").content.decode()
    assert "待处理售后" in page and "最近截止" in page
    trend = json.loads(page.split('<script id="trend-data" type="application/json">')[1].split("</script>")[0])
    assert trend[-1]["aftersale_rate"] == 100.0  # one case for one paid order today


def test_aftersale_list_shows_my_cases_waiting_first_and_not_other_shops(delivered, buyer, owner):
    from tests.factories import make_member, make_shop

    case = aftersale_open(order=delivered, actor=Actor.for_buyer(buyer), case_type="exchange", reason="尺码不合适")
    client = Client()
    client.force_login(owner)
    page = client.get("/aftersales/?status=requested").content.decode()
    assert delivered.order_no in page and "换货" in page and f"#{case.pk}" in page
    assert delivered.order_no not in client.get("/aftersales/?status=refunded").content.decode()
    assert 'href="/aftersales/?status=requested"' in client.get("/").content.decode()
    stranger = Client()
    stranger.force_login(make_member(make_shop("隔壁店")))
    assert delivered.order_no not in stranger.get("/aftersales/").content.decode()


def test_the_dashboard_tile_shows_the_earliest_reply_deadline_among_cases_waiting_on_the_merchant(delivered, buyer, owner):
    from django.utils import timezone

    from aftersale.selectors import aftersale_awaiting_merchant_nearest
    from tests.factories import make_shop

    # given cases waiting on the merchant in several states, one already settled and another shop's, each due at its own time
    case = aftersale_open(order=delivered, actor=Actor.for_buyer(buyer), case_type="return_refund", reason="与描述不符")
    now = timezone.now().replace(microsecond=0)
    row = AfterSaleCase.objects.filter(pk=case.pk).values()[0]
    other_shop = make_shop("隔壁店")
    AfterSaleCase.objects.filter(pk=case.pk).update(reply_deadline=now + timedelta(hours=5))
    AfterSaleCase.objects.bulk_create(
        AfterSaleCase(**{**row, "id": None, "status": status, "reply_deadline": now + timedelta(hours=hours), "shop_id": shop_id})
        for status, hours, shop_id in [
            ("negotiating", 3, case.shop_id),
            ("inspecting", 2, case.shop_id),
            ("refunded", 1, case.shop_id),  # settled: nothing to answer
            ("requested", 0.5, other_shop.pk),  # not this shop's
        ]
    )
    # when the nearest deadline is asked, then it is the inspecting case's; none once nothing waits
    assert aftersale_awaiting_merchant_nearest(shop_id=case.shop_id) == now + timedelta(hours=2)
    assert aftersale_awaiting_merchant_nearest(shop_id=other_shop.pk) == now + timedelta(minutes=30)
    AfterSaleCase.objects.filter(shop_id=case.shop_id).update(status="refunded")
    assert aftersale_awaiting_merchant_nearest(shop_id=case.shop_id) is None

"""The exception centre in the console: counts per kind, facts first, remedies as one-click forms, recovery with a confirm step."""
from datetime import timedelta
from decimal import Decimal

from django.test import Client

from orders.constants import LedgerKind, OrderStatus
from orders.models import Coupon, LedgerEntry, Order, OrderException
from orders.services.lifecycle import order_pay_timeout
from shop_admin.kernel.constants import Role
from tests.factories import callback_body, make_member, make_shop, make_sku
from tests.orders.exception_helpers import deliver, oversold_order, paid_order


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_list_counts_open_exceptions_per_kind_and_links_each(console, sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    page = html(console.get("/exceptions/"))
    assert 'data-kind-count="oversell">1<' in page
    assert 'data-kind-count="not_received">0<' in page
    assert order.order_no in page and f"/exceptions/{exception.pk}/" in page
    assert order.order_no not in html(console.get("/exceptions/?kind=not_received"))
    assert "异常中心" in html(console.get("/"))  # the navigation entry


def test_detail_shows_facts_first_then_the_remedies_of_its_kind(console, sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    page = html(console.get(f"/exceptions/{exception.pk}/"))
    assert page.index("商品（下单时快照）") < page.index('data-remedy="transfer_stock"')
    assert "蜂蜜柚子茶" in page and "¥59.90" in page
    assert 'data-remedy="similar_sku"' in page and 'data-remedy="urge_carrier"' not in page


def test_compensate_from_the_console_records_who_and_the_coupon(console, owner, sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    response = console.post(
        f"/exceptions/{exception.pk}/resolve/",
        {"remedy": "compensate", "coupon_amount": "6.00", "note": "致歉", "evidence": "https://x.example/chat.png"},
    )
    assert response.status_code == 302
    exception.refresh_from_db()
    assert exception.status == "resolved" and exception.resolved_by == owner and exception.remedy == "compensate"
    assert exception.coupon.discount == Decimal("6.00") and exception.evidence == ["https://x.example/chat.png"]
    page = html(console.get(f"/exceptions/{exception.pk}/"))
    assert exception.coupon.code in page and "已解决" in page
    assert "发放补偿券" in html(console.get(f"/orders/{order.order_no}/"))  # the audit trail on the order page


def test_cancel_refund_from_the_console(console, sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    console.post(f"/exceptions/{exception.pk}/resolve/", {"remedy": "cancel_refund", "note": "缺货"})
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    assert LedgerEntry.objects.get(order=order, kind=LedgerKind.REFUND_OUT).amount == Decimal("59.90")


def test_similar_sku_and_transfer_from_the_console(console, shop, sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    other = make_sku(shop, price="59.90", stock=3)
    console.post(f"/exceptions/{exception.pk}/resolve/", {"remedy": "similar_sku", "sku_id": str(other.pk)})
    assert order.lines.get().sku_id == other.pk
    assert not LedgerEntry.objects.filter(order=order, kind=LedgerKind.REFUND_OUT).exists()  # same price: nothing back


def test_a_refused_remedy_shows_the_field_and_changes_nothing(console, sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    response = console.post(f"/exceptions/{exception.pk}/resolve/", {"remedy": "compensate", "coupon_amount": "abc"}, follow=True)
    assert "补偿券金额须为数字" in response.content.decode() and "coupon_amount:" not in response.content.decode()
    assert OrderException.objects.get(pk=exception.pk).status == "open" and not Coupon.objects.exists()


def test_a_refused_report_names_the_field_by_its_label_not_its_key(console, sku, place_order, pay):
    order = paid_order(sku=sku, place_order=place_order, pay=pay)
    response = console.post(f"/orders/{order.order_no}/report/", {"description": " "}, follow=True)
    page = html(response)
    assert "请说明异常情况：情况说明：不能为空" in page and "description: " not in page


def test_evidence_is_attached_from_the_console(console, sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    console.post(f"/exceptions/{exception.pk}/evidence/", {"evidence": "https://x.example/a.png\nhttps://x.example/b.png"})
    assert OrderException.objects.get(pk=exception.pk).evidence == ["https://x.example/a.png", "https://x.example/b.png"]


def test_merchant_reports_damage_from_the_order_page_and_shipping_is_held(console, sku, place_order, pay):
    order = paid_order(sku=sku, place_order=place_order, pay=pay)
    page = html(console.get(f"/orders/{order.order_no}/"))
    assert f"/orders/{order.order_no}/report/" in page
    response = console.post(f"/orders/{order.order_no}/report/", {"description": "少了一瓶"})
    exception = OrderException.objects.get(order=order, kind="merchant_reported")
    assert response.url == f"/exceptions/{exception.pk}/"
    order.refresh_from_db()
    assert order.on_hold
    assert f"/exceptions/{exception.pk}/" in html(console.get(f"/orders/{order.order_no}/"))


def test_recovery_from_the_console_asks_to_confirm_first(console, sku, place_order):
    placed = place_order((sku, 1))
    old = Order.objects.get(order_no=placed["order_no"])
    order_pay_timeout(now=old.pay_deadline + timedelta(seconds=1), ids=[old.pk])
    # the order page offers recovery, which first shows what will happen
    assert f"/orders/{old.order_no}/recover/" in html(console.get(f"/orders/{old.order_no}/"))
    page = html(console.get(f"/orders/{old.order_no}/recover/"))
    assert "确认召回" in page
    assert not Order.objects.filter(recovered_from=old).exists()
    # a POST without the confirmation is refused
    console.post(f"/orders/{old.order_no}/recover/", {})
    assert not Order.objects.filter(recovered_from=old).exists()
    response = console.post(f"/orders/{old.order_no}/recover/", {"confirm": "1"})
    new = Order.objects.get(recovered_from=old)
    assert response.url == f"/orders/{new.order_no}/"
    assert old.order_no in html(console.get(f"/orders/{new.order_no}/"))
    assert new.order_no in html(console.get(f"/orders/{old.order_no}/"))


def test_the_console_refuses_to_recover_an_order_the_buyer_cancelled(console, sku, place_order, buyer_api):
    placed = place_order((sku, 1))
    buyer_api.post(f"/orders/{placed['order_no']}/cancel", {"reason": "买错了"})
    page = html(console.get(f"/orders/{placed['order_no']}/recover/"))
    assert "买家主动取消" in page and "确认召回" not in page
    console.post(f"/orders/{placed['order_no']}/recover/", {"confirm": "1"})
    assert not Order.objects.filter(recovered_from__order_no=placed["order_no"]).exists()


def test_failed_payments_show_in_the_recover_queue(console, sku, place_order, buyer_api, api):
    placed = place_order((sku, 1))
    _s, payment = buyer_api.post(f"/orders/{placed['order_no']}/payments", {"channel": "wechat"})
    deliver(api, callback_body(payment, txn="WX-FAIL-Q", status="failed", reason="insufficient_balance"))
    page = html(console.get("/exceptions/"))
    queue = page[page.index('id="recover"'):]
    assert placed["order_no"] in queue and "余额不足" in queue
    assert "支付失败待召回" in html(console.get("/"))  # the dashboard tile


def test_customer_service_sees_no_money_remedies(shop, sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    service = as_user(make_member(shop, role=Role.SERVICE))
    page = html(service.get(f"/exceptions/{exception.pk}/"))
    assert 'data-remedy="compensate"' not in page and 'data-remedy="no_action"' in page
    assert service.post(f"/exceptions/{exception.pk}/resolve/", {"remedy": "compensate", "coupon_amount": "5"}).status_code == 403
    assert OrderException.objects.get(pk=exception.pk).status == "open"


def test_another_shop_cannot_see_or_act(sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    other = as_user(make_member(make_shop("别家店"), username="rival"))
    assert order.order_no not in html(other.get("/exceptions/"))
    assert other.get(f"/exceptions/{exception.pk}/").status_code == 404
    assert other.post(f"/exceptions/{exception.pk}/resolve/", {"remedy": "no_action", "note": "x"}).status_code == 404
    assert other.post(f"/exceptions/{exception.pk}/evidence/", {"evidence": "https://x.example/a"}).status_code == 404
    assert other.post(f"/orders/{order.order_no}/report/", {"description": "x"}).status_code == 404
    assert other.get(f"/orders/{order.order_no}/recover/").status_code == 404
    assert OrderException.objects.get(pk=exception.pk).status == "open"


def test_the_centre_speaks_english_when_chosen(console, sku, place_order, pay, merchant_api):
    order, exception = oversold_order(sku=sku, place_order=place_order, pay=pay, merchant_api=merchant_api)
    console.post("/i18n/setlang/", {"language": "en", "next": "/exceptions/"})
    page = html(console.get(f"/exceptions/{exception.pk}/"))
    assert "1. Confirm the facts" in page and "Similar SKU, refund the difference" in page
    assert "Failed payments to recover (within 2 h)" in html(console.get("/exceptions/"))

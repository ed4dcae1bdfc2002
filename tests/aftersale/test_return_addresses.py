"""The return address book: one default per shop, the address an agreed return sends, the clock's default, shop isolation."""
import importlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from aftersale.models import AfterSaleCase, ReturnAddress
from shop_admin.kernel.constants import Role
from shop_admin.kernel.models import DeadlineFailure
from tests.conftest import ApiClient
from tests.factories import RETURN_ADDRESS, make_member, make_shop

WAREHOUSE_DESK = {"name": "收货台", "phone": "13700000000", "province": "广东省", "city": "广州市", "district": "天河区", "detail": "体育西路1号"}


def operate(api, case, action, **body):
    return api.post(f"/merchant/aftersales/{case['id']}/operate", {"action": action, **body})


def defaults_of(shop) -> list[int]:
    return list(ReturnAddress.objects.filter(shop=shop, is_default=True).values_list("pk", flat=True))


# --- the book through the API ---


def test_the_first_address_is_the_default_and_naming_another_moves_it(shop, merchant_api):
    ReturnAddress.objects.filter(shop=shop).delete()
    status, first = merchant_api.post("/merchant/return-addresses", {"shop_id": shop.pk, **RETURN_ADDRESS})
    assert status == 201 and first["is_default"] is True  # a shop with addresses always has a default
    status, second = merchant_api.post("/merchant/return-addresses", {"shop_id": shop.pk, **WAREHOUSE_DESK, "is_default": True})
    assert status == 201 and second["is_default"] is True
    assert defaults_of(shop) == [second["return_address_id"]]
    status, listed = merchant_api.get("/merchant/return-addresses")
    assert status == 200 and [a["return_address_id"] for a in listed["return_addresses"]] == [second["return_address_id"], first["return_address_id"]]

    status, changed = merchant_api.put(f"/merchant/return-addresses/{first['return_address_id']}", {**RETURN_ADDRESS, "detail": "文三路2号", "is_default": True})
    assert status == 200 and changed["detail"] == "文三路2号" and defaults_of(shop) == [first["return_address_id"]]
    # the default is moved by naming another, never by unsetting it (a shop would be left with none)
    status, error = merchant_api.put(f"/merchant/return-addresses/{first['return_address_id']}", {**RETURN_ADDRESS, "is_default": False})
    assert status == 422 and "is_default" in error["error"]["details"]["fields"]

    assert merchant_api.delete(f"/merchant/return-addresses/{first['return_address_id']}")[0] == 204
    assert defaults_of(shop) == [second["return_address_id"]]  # the one left inherits the default


def test_a_wrong_address_is_refused_naming_each_field(shop, merchant_api):
    bad = {**RETURN_ADDRESS, "phone": "12345", "district": "朝阳区"}
    status, error = merchant_api.post("/merchant/return-addresses", {"shop_id": shop.pk, **bad})
    assert status == 422 and set(error["error"]["details"]["fields"]) == {"phone", "district"}
    status, error = merchant_api.post("/merchant/return-addresses", {"shop_id": shop.pk, "name": "x"})
    assert status == 422 and "phone" in error["error"]["details"]["fields"]
    assert ReturnAddress.objects.filter(shop=shop).count() == 1


def test_another_shops_addresses_are_not_found_in_the_book_nor_when_agreeing(shop, merchant_api, stranger_api, order_in, open_case):
    theirs = ReturnAddress.objects.get(shop__name="隔壁店")
    status, listed = merchant_api.get("/merchant/return-addresses")
    assert theirs.pk not in [a["return_address_id"] for a in listed["return_addresses"]]
    for call in (
        lambda: merchant_api.put(f"/merchant/return-addresses/{theirs.pk}", RETURN_ADDRESS),
        lambda: merchant_api.delete(f"/merchant/return-addresses/{theirs.pk}"),
        lambda: merchant_api.post("/merchant/return-addresses", {"shop_id": theirs.shop_id, **RETURN_ADDRESS}),
    ):
        assert call()[0] == 404
    case = open_case(order_in("delivered"), "return_refund")
    status, error = operate(merchant_api, case, "agree", return_address_id=theirs.pk)
    assert status == 404 and error["error"]["code"] == "return_address_not_found"
    assert AfterSaleCase.objects.get(pk=case["id"]).status == "requested"
    assert ReturnAddress.objects.filter(pk=theirs.pk, detail=RETURN_ADDRESS["detail"]).exists()


@pytest.mark.parametrize("role", [Role.SERVICE, Role.WAREHOUSE])
def test_customer_service_and_the_warehouse_keep_the_book(shop, role):
    api = ApiClient(make_member(shop, role=role).api_token.key)
    status, made = api.post("/merchant/return-addresses", {"shop_id": shop.pk, **WAREHOUSE_DESK})
    assert status == 201 and made["is_default"] is False


# --- agreeing to a return ---


def test_agreeing_sends_the_address_named_or_the_default_and_the_buyer_sees_it(shop, merchant_api, buyer_api, order_in, open_case, tea, cup):
    desk = ReturnAddress.objects.create(shop=shop, **WAREHOUSE_DESK)
    order = order_in("delivered")
    first = open_case(order, "return_refund", items=[{"sku_id": tea.pk, "quantity": 1}])
    status, agreed = operate(merchant_api, first, "agree", return_address_id=desk.pk)
    assert status == 200 and agreed["return_address"] == desk.text
    second = open_case(order, "return_refund", items=[{"sku_id": cup.pk, "quantity": 1}])
    status, agreed = operate(merchant_api, second, "agree")
    default = ReturnAddress.objects.get(shop=shop, is_default=True)
    assert status == 200 and agreed["return_address"] == default.text
    status, seen = buyer_api.get(f"/aftersales/{second['id']}")
    assert status == 200 and "13900000000" in seen["return_address"] and "浙江省杭州市西湖区" in seen["return_address"]
    # the case keeps what was sent: the book may change later
    ReturnAddress.objects.filter(pk=desk.pk).delete()
    assert buyer_api.get(f"/aftersales/{first['id']}")[1]["return_address"] == desk.text


def test_a_shop_without_an_address_is_told_to_add_one(shop, merchant_api, console, order_in, open_case):
    ReturnAddress.objects.filter(shop=shop).delete()
    case = open_case(order_in("delivered"), "return_refund")
    status, error = operate(merchant_api, case, "agree")
    assert status == 422 and error["error"]["code"] == "return_address_required"
    assert error["error"]["details"]["url"] == "/settings/return-addresses/"
    page = console.get(f"/aftersales/{case['id']}/").content.decode()
    assert 'href="/settings/return-addresses/"' in page
    response = console.post(f"/aftersales/{case['id']}/operate/", {"action": "agree"}, follow=True)
    page = response.content.decode()
    assert "请先添加退货地址" in page and '<a href="/settings/return-addresses/">添加退货地址</a>' in page
    assert AfterSaleCase.objects.get(pk=case["id"]).status == "requested"


def test_the_console_agree_form_offers_the_shops_addresses_default_first(shop, console, order_in, open_case):
    desk = ReturnAddress.objects.create(shop=shop, **WAREHOUSE_DESK)
    case = open_case(order_in("delivered"), "return_refund")
    page = console.get(f"/aftersales/{case['id']}/").content.decode()
    default = ReturnAddress.objects.get(shop=shop, is_default=True)
    assert f'<option value="{default.pk}" selected>' in page and f'<option value="{desk.pk}">' in page
    console.post(f"/aftersales/{case['id']}/operate/", {"action": "agree", "return_address_id": desk.pk})
    assert AfterSaleCase.objects.get(pk=case["id"]).return_address == desk.text


# --- the clock ---


def sweep(at) -> str:
    out = StringIO()
    call_command("sweep_deadlines", "--at", at.isoformat(), stdout=out)
    return out.getvalue()


def test_the_clock_approves_a_return_with_the_default_address_and_never_makes_one_up(shop, order_in, open_case):
    case = open_case(order_in("delivered"), "return_refund")
    sweep(AfterSaleCase.objects.get(pk=case["id"]).reply_deadline)
    approved = AfterSaleCase.objects.get(pk=case["id"])
    assert approved.status == "awaiting_return" and approved.return_address == ReturnAddress.objects.get(shop=shop).text

    ReturnAddress.objects.filter(shop=shop).delete()
    other = open_case(order_in("delivered"), "return_refund")
    deadline = AfterSaleCase.objects.get(pk=other["id"]).reply_deadline
    sweep(deadline)
    waiting = AfterSaleCase.objects.get(pk=other["id"])
    assert waiting.status == "requested" and waiting.return_address == ""
    assert DeadlineFailure.objects.get(row_id=other["id"]).reason_code == "return_address_required"
    ReturnAddress.objects.create(shop=shop, is_default=True, **WAREHOUSE_DESK)
    sweep(deadline + timedelta(minutes=1))
    assert AfterSaleCase.objects.get(pk=other["id"]).return_address.startswith("广东省广州市天河区")


# --- the console page ---


def test_the_settings_page_keeps_the_book(shop, console):
    index = console.get("/settings/").content.decode()
    assert 'href="/settings/return-addresses/"' in index
    response = console.post("/settings/return-addresses/", {**WAREHOUSE_DESK, "phone": "110"})
    page = response.content.decode()
    assert response.status_code == 200 and "手机号须为11位中国大陆手机号" in page and 'value="收货台"' in page  # input kept
    response = console.post("/settings/return-addresses/", {**WAREHOUSE_DESK, "is_default": "on"})
    assert response.status_code == 302
    desk = ReturnAddress.objects.get(shop=shop, name="收货台")
    assert defaults_of(shop) == [desk.pk]
    old = ReturnAddress.objects.get(shop=shop, name=RETURN_ADDRESS["name"])
    console.post(f"/settings/return-addresses/{old.pk}/default/")
    assert defaults_of(shop) == [old.pk]
    console.post(f"/settings/return-addresses/{desk.pk}/", {**WAREHOUSE_DESK, "detail": "体育西路9号"})
    assert ReturnAddress.objects.get(pk=desk.pk).detail == "体育西路9号"
    console.post(f"/settings/return-addresses/{desk.pk}/delete/")
    assert not ReturnAddress.objects.filter(pk=desk.pk).exists()


def test_another_shops_address_is_a_404_in_the_console(console):
    theirs = ReturnAddress.objects.get(shop=make_shop("隔壁店"))
    assert console.get(f"/settings/return-addresses/{theirs.pk}/").status_code == 404
    assert console.post(f"/settings/return-addresses/{theirs.pk}/delete/").status_code == 404
    assert console.post(f"/settings/return-addresses/{theirs.pk}/default/").status_code == 404
    assert ReturnAddress.objects.filter(pk=theirs.pk).exists()


def test_the_settings_page_reads_in_english(console):
    console.cookies["django_language"] = "en"
    page = console.get("/settings/return-addresses/", headers={"Accept-Language": "en"}).content.decode()
    assert "Add a return address" in page and "Shop settings" in page
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in page.split("<main", 1)[1].replace(RETURN_ADDRESS["detail"], "").replace(RETURN_ADDRESS["name"], "").replace("浙江省杭州市西湖区", ""))


# --- the old text field ---


def test_the_old_return_address_text_becomes_the_default_where_it_parses(db):
    migration = importlib.import_module("aftersale.migrations.0011_returnaddr")
    parsed = migration._parse("浙江省杭州市余杭区仓前街道梦想小镇1号 退货组 13800000000", name="抖店", phone="")
    assert parsed == {
        "name": "抖店", "phone": "13800000000", "province": "浙江省", "city": "杭州市", "district": "余杭区",
        "detail": "仓前街道梦想小镇1号 退货组",
    }
    assert migration._parse("上海市浦东新区世纪大道1号", name="抖店", phone="13800000000")["city"] == "上海市"
    assert migration._parse("杭州仓 退货组", name="抖店", phone="13800000000") is None  # no province: left as history
    assert migration._parse("广东省广州市天河区体育西路1号", name="抖店", phone="") is None  # no phone anywhere

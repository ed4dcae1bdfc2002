"""Order console forms refused by a check come back with what was typed, their message shown, the next visit clean."""
from tests.orders.exception_helpers import paid_order


def _form(page: str, action: str) -> str:
    return page.split(f'action="{action}"')[1].split("</form>")[0]


def test_a_refused_remark_keeps_the_text_and_flag(console, sku, place_order, pay):
    order = paid_order(sku=sku, place_order=place_order, pay=pay)
    response = console.post(f"/orders/{order.order_no}/remark/", {"remark": "周末再发", "flag": "9"}, follow=True)
    page = response.content.decode()
    assert "旗帜" in page.split('class="messages"')[1].split("</ul>")[0]
    assert "周末再发</textarea>" in _form(page, f"/orders/{order.order_no}/remark/")
    assert "周末再发" not in console.get(f"/orders/{order.order_no}/").content.decode()


def test_a_refused_close_and_report_keep_their_reason(console, sku, place_order, pay):
    order = paid_order(sku=sku, place_order=place_order, pay=pay)
    page = console.post(f"/orders/{order.order_no}/close/", {"reason": "缺货无法发"}, follow=True).content.decode()
    assert 'value="缺货无法发"' in _form(page, f"/orders/{order.order_no}/close/")
    page = console.post(f"/orders/{order.order_no}/report/", {"description": " ", "evidence": "https://x.example/p.png"}, follow=True).content.decode()
    assert ">https://x.example/p.png</textarea>" in _form(page, f"/orders/{order.order_no}/report/")


def test_a_refused_stock_edit_keeps_the_count_in_its_row(console, sku, place_order, pay):
    paid_order(sku=sku, place_order=place_order, pay=pay)
    level = sku.stock_levels.get()
    page = console.post(f"/products/stock/{level.pk}/", {"on_hand": "0"}, follow=True).content.decode()
    assert 'class="messages"' in page
    assert 'value="0"' in _form(page, f"/products/stock/{level.pk}/")


def test_an_export_with_bad_filters_returns_to_the_list_with_them(console):
    response = console.post("/orders/export/", {"status": "paid", "created_from": "2026-13-40"})
    assert response.status_code == 302 and "status=paid" in response.url and "created_from=2026-13-40" in response.url


def test_the_import_page_states_the_column_rules_in_both_languages(console):
    page = console.get("/imports/").content.decode().split('id="import-rules"')[1].split("</section>")[0]
    for column in ("订单号", "下单时间", "订单状态", "SKU编码", "数量", "单价", "应付金额", "收件人", "手机号", "省", "市", "区", "详细地址"):
        assert f"<code>{column}</code>" in page
    assert "订单号只能是数字" in page and "GBK/GB18030" in page and "带BOM的UTF-8" in page and "抖店后台导出的订单文件可原样上传" in page
    console.cookies["django_language"] = "en"
    page = console.get("/imports/").content.decode()
    assert "Required columns" in page and "<code>订单号</code>" in page
    assert "digits only" in page and "UTF-8 with BOM, GBK/GB18030" in page and "Douyin Shop console can be uploaded as it comes" in page

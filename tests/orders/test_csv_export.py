"""Order, settlement and after-sale exports: the contract's columns, Excel-safe cells, only the shop's own rows, streamed to storage."""
import io
import tracemalloc
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from orders.exports import order_export_lines, order_export_write
from orders.imports.apply import orders_import_apply
from orders.models import Order, Settlement, StockLevel
from orders.resources import EXPORT_HEADERS
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.csvio import csv_read
from shop_admin.kernel.models import BackgroundJob
from tests.factories import make_member, make_shop, make_sku
from tests.orders.csv_files import csv_file, read_csv, row


def imported(shop, rows) -> None:
    plan = orders_import_apply(shop_id=shop.pk, actor=Actor.system("test"), table=csv_read(csv_file(rows)), source="test.csv")
    assert not plan.errors, plan.errors


def download(client: Client, job_id: int) -> bytes:
    response = client.get(f"/jobs/{job_id}/download/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def start_export(client: Client, run_jobs, path: str, data: dict) -> BackgroundJob:
    with run_jobs():
        response = client.post(path, data)
    assert response.status_code == 302, response.content
    return BackgroundJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


@pytest.fixture
def tea(shop):
    return make_sku(shop, price="59.90", stock=1000, code="TEA-1", name="蜂蜜柚子茶")


def test_export_of_a_filtered_list_is_the_contract_csv_with_ids_as_text(console, run_jobs, shop, tea):
    imported(shop, [row(订单号="20261122000000000001"), row(订单号="20261122000000000002", 订单状态="已取消")])
    job = start_export(console, run_jobs, "/orders/export/", {"status": "paid"})
    job.refresh_from_db()
    assert (job.status, job.done, job.summary) == ("done", 1, {"rows": 1})
    # the file lives in storage, not in the row
    assert job.result_file.name.startswith("jobs/") and default_storage.exists(job.result_file.name)
    content = download(console, job.pk)
    rows = read_csv(content)
    assert list(rows[0]) == EXPORT_HEADERS
    assert [r["订单号"] for r in rows] == ["\t20261122000000000001"]  # a tab keeps Excel from writing 2.02611E+19
    assert rows[0]["订单状态"] == "待发货" and rows[0]["应付金额"] == "119.80" and rows[0]["手机号"] == "138****8000"
    assert "共导出 1 行" in console.get(f"/jobs/{job.pk}/").content.decode()


def test_cells_a_spreadsheet_would_run_are_neutralised(console, run_jobs, shop, tea):
    imported(shop, [row(订单号="1", 收件人="=cmd|' /C calc'!A0", 买家留言="+1+1", 商家备注="@SUM(A1)")])
    Order.objects.filter(order_no="1").update(address_detail="-2+3 文三路478号")
    imported(shop, [row(订单号="2")])
    Order.objects.filter(order_no="2").update(buyer_message="\t=1+1", merchant_remark="\r=1+1")
    rows = {r["订单号"]: r for r in read_csv(download(console, start_export(console, run_jobs, "/orders/export/", {}).pk))}
    assert rows["1"]["收件人"] == "'=*"  # masked (the export's default), then neutralised
    assert rows["1"]["买家留言"] == "'+1+1"
    assert rows["1"]["商家备注"] == "'@SUM(A1)"
    assert rows["1"]["详细地址"] == "'-2****"
    assert rows["2"]["买家留言"] == "'\t=1+1"
    assert rows["2"]["商家备注"] == "'\r=1+1"
    for values in rows.values():
        for value in values.values():
            assert not value.startswith(("=", "+", "-", "@", "\r")), value
            assert not value.startswith("\t") or value[1:].isdigit()


def test_another_shops_orders_are_never_in_an_export(console, run_jobs, shop, tea):
    other = make_shop("隔壁店")
    make_sku(other, code="TEA-1", stock=10)
    imported(shop, [row(订单号="111")])
    imported(other, [row(订单号="222", 收件人="隔壁买家")])
    for path, data in [("/orders/export/", {}), ("/orders/export/", {"q": "蜂蜜"}), ("/orders/export/", {"status": "paid"}), ("/exports/", {"what": "orders"})]:
        content = download(console, start_export(console, run_jobs, path, data).pk)
        text = content.decode("utf-8-sig")
        assert "111" in text and "222" not in text and "隔壁买家" not in text
    # and the other shop's owner cannot fetch this shop's file
    stranger = Client()
    stranger.force_login(make_member(other))
    job = BackgroundJob.objects.filter(shop=shop, kind="orders_export").first()
    assert stranger.get(f"/jobs/{job.pk}/download/").status_code == 404


def test_an_export_in_clear_imported_again_changes_nothing(console, run_jobs, shop, tea):
    imported(shop, [row(订单号="20261122000000000001"), row(订单号="7", 订单状态="待支付", 商家备注="加急")])
    content = download(console, start_export(console, run_jobs, "/exports/", {"what": "orders", "full_contact": "on"}).pk)
    plan = orders_import_apply(shop_id=shop.pk, actor=Actor.system("test"), table=csv_read(content), source="again.csv")
    assert (len(plan.errors), len(plan.new), len(plan.updates), plan.skipped) == (0, 0, 0, 2)


def test_export_orders_command_filters_by_status_and_day(shop, tea, tmp_path, capsys):
    imported(shop, [row(订单号="1", 下单时间="2026-11-20 09:00:00"), row(订单号="2", 下单时间="2026-11-22 09:00:00"), row(订单号="3", 订单状态="待支付")])
    out = tmp_path / "orders.csv"
    call_command("export_orders", str(out), "--shop", str(shop.pk), "--status", "paid", "--created-from", "2026-11-21")
    rows = read_csv(out.read_bytes())
    assert [r["订单号"] for r in rows] == ["2"]
    assert "1 lines written" in capsys.readouterr().out


def test_settlements_and_after_sale_cases_export_from_the_exports_page(console, run_jobs, shop, tea):
    imported(shop, [row(订单号="1", 订单状态="交易完成")])
    order = Order.objects.get(order_no="1")
    settlement = Settlement.objects.get(order=order)  # an imported completed order is settled as the import writes it
    assert settlement.gross == Decimal("119.80") and settlement.commission + settlement.net == settlement.gross
    from aftersale.models import AfterSaleCase

    AfterSaleCase.objects.create(
        order=order, shop=shop, buyer=order.buyer, type="refund_only", reason="=不想要了", reply_deadline=timezone.now()
    )
    settlements = read_csv(download(console, start_export(console, run_jobs, "/exports/", {"what": "settlements"}).pk))
    assert settlements == [
        {"订单号": "1", "结算时间": settlements[0]["结算时间"], "订单金额": "119.80", "平台佣金": f"{settlement.commission}", "结算金额": f"{settlement.net}"}
    ]
    cases = read_csv(download(console, start_export(console, run_jobs, "/exports/", {"what": "aftersales"}).pk))
    assert cases[0]["订单号"] == "1" and cases[0]["售后类型"] == "仅退款" and cases[0]["申请原因"] == "'=不想要了"
    page = console.get("/exports/").content.decode()
    assert "导出结算单" in page and "导出售后单" in page


def test_a_customer_service_user_cannot_export_settlements(shop, run_jobs):
    from shop_admin.kernel.constants import Role

    client = Client()
    client.force_login(make_member(shop, role=Role.SERVICE))
    assert client.post("/exports/", {"what": "settlements"}).status_code == 403


class _Discard(io.RawIOBase):
    """A binary file that keeps nothing: what stays in memory is the export's own."""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return len(data)


def test_export_memory_stays_flat_as_rows_grow(shop, tea):
    """Rows go to the file as the server sends them: 4 times the lines, about the same peak."""
    StockLevel.objects.filter(sku=tea).update(available=10**6)

    def peak(lines_count: int, start: int) -> int:
        imported(shop, [row(订单号=str(start + i), 数量="1", 应付金额="59.90") for i in range(lines_count)])
        tracemalloc.start()
        written = order_export_write(order_export_lines(shop_id=shop.pk), _Discard(), shop_id=shop.pk)
        _current, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert written == Order.objects.filter(shop=shop).count()
        return top

    small = peak(3000, 1_000_000)
    large = peak(9000, 2_000_000)  # 12,000 lines in all
    assert large < small * 1.5, (small, large)


def _excel_csv(rows: list[list[str]]) -> bytes:
    """What Excel reads as these cells: a BOM, the contract's header, rows as Python's csv module writes them."""
    import csv

    out = io.StringIO(newline="")
    csv.writer(out).writerows([EXPORT_HEADERS, *rows])
    return ("\ufeff" + out.getvalue()).encode()


def test_the_copy_export_writes_every_cell_as_the_contract_formats_it(shop, tea):
    """PostgreSQL writes the CSV (COPY): money, shop time, labels in the reader's language, contact details masked or in
    clear, the first parcel, cells a spreadsheet would run neutralised and IDs kept as text; quoted and ended as Excel reads."""
    from django.utils import translation

    from logistics.models import Shipment
    from shop_admin.kernel.text import address_detail_mask, name_mask, phone_mask

    make_sku(shop, price="12.50", stock=1000, code="=MUG-2", name="杯子, \"大号\"")
    imported(
        shop,
        [
            # an order of two lines with a parcel; odd characters in every text column
            row(订单号="20261122000000000001", 订单状态="已发货", 收件人='王"五"', 买家留言="第一行\n第二行, 逗号", 商家备注=" 前后空格 ", 应付金额="132.30"),
            row(订单号="20261122000000000001", 订单状态="已发货", 收件人='王"五"', 买家留言="第一行\n第二行, 逗号", 商家备注=" 前后空格 ",
                SKU编码="=MUG-2", 商品名称="杯子, \"大号\"", 商品规格="", 数量="1", 单价="12.50", 应付金额="132.30"),
            row(订单号="2", 订单状态="待支付", 收件人="=cmd|' /C calc'!A0", 买家留言="+1+1", 商家备注="@SUM(A1)", 商品规格="-5℃ 😀"),
            row(订单号="3", 订单状态="交易完成", 下单时间="2026/1/2 3:04", 商品名称="\\.", 买家留言="a\r\nb"),
            row(订单号="123456789012", 订单状态="已取消", 详细地址="123456789012345"),
        ],
    )
    Order.objects.filter(order_no="2").update(buyer_message="\t=1+1", merchant_remark="\r=1+1", address_detail="-2+3 文三路")
    Order.objects.filter(order_no="3").update(buyer_message="\t123456789012", merchant_remark="١٢٣٤٥٦٧٨٩٠١٢", recipient_name="\t")
    # contact details the masks must cut: a short name, a one-character street, no phone, 😀
    Order.objects.filter(order_no="123456789012").update(recipient_name="😀欧阳", phone="", address_detail="路")
    first = Order.objects.get(order_no="20261122000000000001")
    at = timezone.now()
    Shipment.objects.create(order=first, shop=shop, carrier="ZTO", tracking_no="731000000001", shipped_at=at)
    Shipment.objects.create(order=first, shop=shop, carrier="SF", tracking_no="SF0000000000002", shipped_at=at + timezone.timedelta(hours=1))
    Shipment.objects.create(order=Order.objects.get(order_no="3"), shop=shop, carrier="JD", tracking_no="=JD1", shipped_at=at)
    lines = order_export_lines(shop_id=shop.pk)

    def export(language: str, full_contact: bool) -> bytes:
        out = io.BytesIO()
        with translation.override(language):
            assert order_export_write(lines, out, shop_id=shop.pk, full_contact=full_contact) == 5
        return out.getvalue()

    # oldest order first, its lines in order; the order's first parcel on each of its lines
    street = "文三路478号华星时代广场A座1201"
    place = ["浙江省", "杭州市", "西湖区"]
    two = ["\t20261122000000000001", "2026-11-22 10:30:00", "Shipped"]
    clear_en = [
        ["3", "2026-01-02 03:04:00", "Completed", "TEA-1", "\\.", "500g", "2", "59.90", "0.00", "0.00", "119.80",
         "'\t", "13800138000", *place, street, "JD Logistics", "'=JD1", "\t123456789012", "١٢٣٤٥٦٧٨٩٠١٢"],
        [*two, "TEA-1", "蜂蜜柚子茶", "500g", "2", "59.90", "0.00", "0.00", "132.30",
         '王"五"', "13800138000", *place, street, "ZTO Express", "\t731000000001", "第一行\n第二行, 逗号", "前后空格"],
        [*two, "'=MUG-2", '杯子, "大号"', "默认", "1", "12.50", "0.00", "0.00", "132.30",
         '王"五"', "13800138000", *place, street, "ZTO Express", "\t731000000001", "第一行\n第二行, 逗号", "前后空格"],
        ["2", "2026-11-22 10:30:00", "Awaiting payment", "TEA-1", "蜂蜜柚子茶", "'-5℃ 😀", "2", "59.90", "0.00", "0.00", "119.80",
         "'=cmd|' /C calc'!A0", "13800138000", *place, "'-2+3 文三路", "", "", "'\t=1+1", "'\r=1+1"],
        ["\t123456789012", "2026-11-22 10:30:00", "Cancelled", "TEA-1", "蜂蜜柚子茶", "500g", "2", "59.90", "0.00", "0.00", "119.80",
         "😀欧阳", "", *place, "路", "", "", "", ""],
    ]
    assert export("en", True) == _excel_csv(clear_en)
    # in Chinese: the status and carrier labels
    chinese = {"Completed": "交易完成", "Shipped": "已发货", "Awaiting payment": "待支付", "Cancelled": "已取消", "JD Logistics": "京东", "ZTO Express": "中通"}
    clear_zh = [[chinese.get(cell, cell) for cell in cells] for cells in clear_en]
    assert export("zh-hans", True) == _excel_csv(clear_zh)
    # masked (the default): name, phone and street cut as the console shows them, then neutralised like any cell
    contact = [EXPORT_HEADERS.index(header) for header in ("收件人", "手机号", "详细地址")]
    masked = [["'\t*", "138****8000", "文三****"], ["王*", "138****8000", "文三****"], ["王*", "138****8000", "文三****"],
              ["'=*", "138****8000", "'-2****"], ["😀*", "****", "路****"]]
    assert [name_mask('王"五"'), phone_mask("13800138000"), address_detail_mask(street)] == masked[1]
    assert [name_mask("😀欧阳"), phone_mask(""), address_detail_mask("路")] == masked[4]
    for language, rows in (("zh-hans", clear_zh), ("en", clear_en)):
        expected = [list(cells) for cells in rows]
        for cells, cut in zip(expected, masked, strict=True):
            for index, value in zip(contact, cut, strict=True):
                cells[index] = value
        assert export(language, False) == _excel_csv(expected), language


def test_the_export_reports_progress_while_it_streams(shop, tea, settings):
    from orders import exports

    StockLevel.objects.filter(sku=tea).update(available=10**6)
    imported(shop, [row(订单号=str(5000 + i), 数量="1", 应付金额="59.90") for i in range(12)])
    seen = []
    old, exports.PROGRESS_EVERY = exports.PROGRESS_EVERY, 5
    try:
        assert exports.order_export_write(order_export_lines(shop_id=shop.pk), io.BytesIO(), shop_id=shop.pk, progress=seen.append) == 12
    finally:
        exports.PROGRESS_EVERY = old
    assert seen[:2] == [5, 10]


@pytest.mark.django_db(transaction=True)
def test_the_job_page_sees_rows_done_while_copy_holds_the_connection():
    """The COPY keeps the job's connection busy to the end: progress goes through a connection of its own."""
    from django.db import DEFAULT_DB_ALIAS, connections

    from orders import exports
    from shop_admin.kernel.background import background_job_file

    shop = make_shop("进度店")
    make_sku(shop, price="59.90", stock=10**6, code="TEA-1", name="蜂蜜柚子茶")
    imported(shop, [row(订单号=str(7000 + i), 数量="1", 应付金额="59.90") for i in range(6)])
    job = BackgroundJob.objects.create(shop=shop, kind="orders_export", status=BackgroundJob.Status.RUNNING, total=6)
    seen_by_page = []
    page = connections.create_connection(DEFAULT_DB_ALIAS)  # what the job page reads, meanwhile

    def write(out, progress):
        def report(done):
            progress(done)
            with page.cursor() as cursor:
                cursor.execute("SELECT done FROM shop_admin_backgroundjob WHERE id = %s", [job.pk])
                seen_by_page.append(cursor.fetchone()[0])

        return exports.order_export_write(exports.order_export_lines(shop_id=shop.pk), out, shop_id=shop.pk, progress=report)

    old, exports.PROGRESS_EVERY = exports.PROGRESS_EVERY, 2
    try:
        assert background_job_file(job, result_name="o.csv", write=write) == 6
    finally:
        exports.PROGRESS_EVERY = old
        page.close()
    assert seen_by_page == [2, 4, 6]
    job.refresh_from_db()
    assert (job.status, job.done, job.summary) == ("done", 6, {"rows": 6})


def test_every_export_job_reports_as_many_done_as_its_total_and_none_failed(console, run_jobs, shop, tea):
    """The job page said "96 succeeded, 0 failed, 0 total" for settlements and after-sale cases: no total was ever set."""
    from aftersale.models import AfterSaleCase

    imported(shop, [row(订单号=str(n), 订单状态="交易完成") for n in (1, 2, 3)])
    for order in Order.objects.filter(shop=shop):
        AfterSaleCase.objects.create(order=order, shop=shop, buyer=order.buyer, type="refund_only", reason="不想要了", reply_deadline=timezone.now())
    jobs = [
        start_export(console, run_jobs, "/exports/", {"what": what}) for what in ("orders", "settlements", "aftersales")
    ] + [start_export(console, run_jobs, "/orders/bulk/", {"action": "export", "order_no": ["1", "2"]})]
    for job in jobs:
        job.refresh_from_db()
        assert (job.kind, job.status, job.failed, job.done, job.total) == (job.kind, "done", 0, job.summary["rows"], job.summary["rows"])
        assert job.done > 0
        assert f"成功 {job.done}，失败 0，共 {job.done}" in console.get(f"/jobs/{job.pk}/").content.decode()

"""Order CSV import: the preview names every bad row, nothing is written until confirmed, then all or nothing, once."""
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from orders.constants import ExceptionKind, ExceptionStatus, LineStock, OrderStatus
from orders.models import Order, OrderEvent, OrderException, OrderLine
from shop_admin.kernel.models import BackgroundJob
from shop_admin.kernel.text import stored_text
from tests.factories import make_shop, make_sku, stock_of
from tests.orders.csv_files import ROW, csv_file, row

ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "gb18030"]


@pytest.fixture
def tea(shop):
    return make_sku(shop, price="59.90", stock=10, code="TEA-1", name="蜂蜜柚子茶")


@pytest.fixture
def cup(shop):
    return make_sku(shop, price="25.00", stock=10, code="CUP-1", name="马克杯")


def upload(console, run_jobs, content: bytes, name: str = "orders.csv") -> BackgroundJob:
    """Upload through the console and let the check job run; the preview's job."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    with run_jobs():
        response = console.post("/imports/", {"file": SimpleUploadedFile(name, content, content_type="text/csv")})
    assert response.status_code == 302, response.content
    job = BackgroundJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    assert job.kind == "orders_import_check"
    return job


def confirm(console, run_jobs, check: BackgroundJob) -> BackgroundJob:
    with run_jobs():
        response = console.post(f"/imports/{check.pk}/confirm/")
    assert response.status_code == 302
    check.refresh_from_db()
    return BackgroundJob.objects.get(pk=check.params["apply_job_id"])


def errors_of(job: BackgroundJob) -> list[tuple[int, str, str]]:
    job.refresh_from_db()
    return [(e["line"], e["column"], stored_text(e["reason"], e.get("params"))) for e in job.summary["errors"]]


# --- encodings and the happy path ---


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_each_encoding_previews_then_imports_with_stock_occupied_and_an_event(console, run_jobs, tea, cup, encoding):
    # given a two-line paid order and an unpaid one, in the encoding Excel or a script wrote
    content = csv_file(
        [
            row(订单号="202611220001", 应付金额="144.80"),
            row(订单号="202611220001", SKU编码="CUP-1", 商品名称="马克杯", 数量="1", 单价="25.00", 应付金额="144.80"),
            row(订单号="202611220002", 订单状态="待支付", 数量="1", 应付金额="59.90", 下单时间="2026/11/22 11:05:00"),
        ],
        encoding=encoding,
    )
    # when it is uploaded
    check = upload(console, run_jobs, content)
    # then the preview counts what it would do and nothing is written yet
    assert check.status == "done" and check.summary["created"] == 2 and check.summary["error_count"] == 0
    assert not Order.objects.exists()
    page = console.get(f"/imports/{check.pk}/").content.decode()
    assert "确认导入" in page
    # when confirmed
    job = confirm(console, run_jobs, check)
    # then both orders exist as the file says, stock moved as for API orders, each with its audit event
    assert (job.status, job.summary["created"], job.summary["failed"]) == ("done", 2, 0)
    paid = Order.objects.get(order_no="202611220001")
    assert (paid.status, paid.payable, paid.paid_amount, paid.ship_deadline is not None) == ("paid", Decimal("144.80"), Decimal("144.80"), True)
    assert set(OrderLine.objects.filter(order=paid).values_list("sku_code", "quantity", "stock_state")) == {
        ("TEA-1", 2, LineStock.OCCUPIED),
        ("CUP-1", 1, LineStock.OCCUPIED),
    }
    pending = Order.objects.get(order_no="202611220002")
    assert pending.status == OrderStatus.PENDING_PAYMENT and pending.pay_deadline is not None
    assert stock_of(tea) == {"available": 7, "locked": 1, "occupied": 2}
    assert stock_of(cup) == {"available": 9, "locked": 0, "occupied": 1}
    assert OrderEvent.objects.filter(order=paid, kind="imported", to_status="paid").count() == 1
    assert paid.recipient_name == "张三" and paid.province == "浙江省"


def test_reuploading_the_same_file_creates_nothing_twice(console, run_jobs, tea):
    content = csv_file([row()])
    confirm(console, run_jobs, upload(console, run_jobs, content))
    assert stock_of(tea)["occupied"] == 2
    # when the same file comes again
    again = upload(console, run_jobs, content)
    # then it is all "already there": nothing to confirm, nothing created, stock untouched
    assert (again.summary["created"], again.summary["skipped"], again.summary["error_count"]) == (0, 1, 0)
    assert "确认导入" not in console.get(f"/imports/{again.pk}/").content.decode()
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 1
    assert stock_of(tea)["occupied"] == 2


def test_confirming_twice_writes_once(console, run_jobs, tea):
    check = upload(console, run_jobs, csv_file([row()]))
    first = confirm(console, run_jobs, check)
    second = confirm(console, run_jobs, check)
    assert first.pk == second.pk
    assert Order.objects.count() == 1 and stock_of(tea)["occupied"] == 2


def test_dates_with_slashes_and_unknown_columns_ignored_and_reported(console, run_jobs, tea):
    headers = ["订单号", "下单时间", "订单状态", "SKU编码", "数量", "单价", "应付金额", "收件人", "手机号", "省", "市", "区", "详细地址", "渠道", "备注2"]
    content = csv_file([{**row(下单时间="2026/11/22 10:30"), "渠道": "快手", "备注2": "x"}], headers=headers)
    check = upload(console, run_jobs, content)
    assert check.summary["unknown_columns"] == ["渠道", "备注2"]
    assert check.summary["error_count"] == 0
    page = console.get(f"/imports/{check.pk}/").content.decode()
    assert "渠道" in page and "已忽略" in page
    confirm(console, run_jobs, check)
    order = Order.objects.get()
    assert order.created_at.isoformat().startswith("2026-11-22T02:30")  # 10:30 shop time


# --- every bad row, named ---


def test_a_missing_required_column_is_named_at_the_header_line(console, run_jobs, tea):
    headers = [h for h in ROW if h != "手机号"]
    check = upload(console, run_jobs, csv_file([row()], headers=headers))
    assert errors_of(check) == [(1, "手机号", "缺少必填列")]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_kind_of_bad_row_is_named_by_line_column_and_reason(console, run_jobs, shop, tea, encoding):
    other_shop = make_shop("别家店")
    make_sku(other_shop, code="OTHER-1")
    taken = Order.objects.create(
        order_no="999000111", shop=other_shop, buyer_id=_buyer().pk, items_total=1, payable=1, recipient_name="李四", phone="13900139000",
        province="浙江省", city="杭州市", district="西湖区", address_detail="某路1号", created_at="2026-11-01T00:00:00Z",
    )
    rows = [
        row(订单号="101", SKU编码="NOPE"),  # line 2: unknown SKU
        row(订单号="102", 手机号="12345"),  # 3: bad phone
        row(订单号="103", 数量="-1"),  # 4: negative quantity
        row(订单号="104", 应付金额="100.00"),  # 5: amounts do not add up
        row(订单号=taken.order_no),  # 6: an order number that already exists
        row(订单号="106", 订单状态="拒收退回"),  # 7: a status no import may create
        row(订单号="107", 订单状态="发货中"),  # 8: no such status
        row(订单号="108", 收件人="##A1B2C3"),  # 9: encrypted contact field
        row(订单号="109", 下单时间="22.11.2026"),  # 10: bad date
        row(订单号="110", SKU编码="OTHER-1"),  # 11: another shop's SKU is unknown here
        row(订单号="111", 市="南京市"),  # 12: a city not in the province
        row(订单号="112", 单价="abc"),  # 13: not an amount
        row(订单号="113"),  # 14: good
        row(订单号="113", 收件人="王五"),  # 15: the same order disagreeing with its first line
    ]
    check = upload(console, run_jobs, csv_file(rows, encoding=encoding))
    found = {(line, column): reason for line, column, reason in errors_of(check)}
    assert "本店没有SKU编码“NOPE”" in found[(2, "SKU编码")]
    assert "手机号" in found[(3, "手机号")]
    assert found[(4, "数量")] == "数量不能为负数"
    assert "金额不符" in found[(5, "应付金额")] and "119.80" in found[(5, "应付金额")]
    assert "已存在" in found[(6, "订单号")]
    assert "不能由导入产生" in found[(7, "订单状态")]
    assert "未知的订单状态" in found[(8, "订单状态")]
    assert "密文" in found[(9, "收件人")]
    assert "时间格式" in found[(10, "下单时间")]
    assert "OTHER-1" in found[(11, "SKU编码")]
    assert "不属于" in found[(12, "市")]
    assert "金额格式" in found[(13, "单价")]
    assert "须一致" in found[(15, "收件人")]
    assert check.summary["failed"] == 13
    # the page lists them and offers them as a CSV; there is nothing to confirm
    page = console.get(f"/imports/{check.pk}/").content.decode()
    assert "下载错误明细CSV" in page and "确认导入" not in page
    report = console.get(f"/jobs/{check.pk}/download/")
    body = b"".join(report.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0] == "行号,列,原因" and "NOPE" in body
    # and a confirm is refused: all or nothing
    console.post(f"/imports/{check.pk}/confirm/")
    check.refresh_from_db()
    assert "apply_job_id" not in check.params
    assert Order.objects.filter(shop=shop).count() == 0
    assert stock_of(tea) == {"available": 10, "locked": 0, "occupied": 0}


def _buyer():
    from tests.factories import make_buyer

    return make_buyer()


def test_a_status_change_the_state_machine_refuses_is_a_bad_row(console, run_jobs, tea):
    confirm(console, run_jobs, upload(console, run_jobs, csv_file([row(订单状态="已取消")])))
    check = upload(console, run_jobs, csv_file([row(订单状态="待发货")]))
    assert errors_of(check) == [(2, "订单状态", "状态机不允许订单从“已取消”变为“待发货”")]


def test_an_unpaid_order_imported_again_as_cancelled_is_updated_and_its_stock_released(console, run_jobs, tea):
    confirm(console, run_jobs, upload(console, run_jobs, csv_file([row(订单状态="待支付")])))
    assert stock_of(tea)["locked"] == 2
    job = confirm(console, run_jobs, upload(console, run_jobs, csv_file([row(订单状态="已取消")])))
    assert (job.summary["created"], job.summary["updated"]) == (0, 1)
    assert Order.objects.get().status == OrderStatus.CANCELLED
    assert stock_of(tea) == {"available": 10, "locked": 0, "occupied": 0}
    assert "更新 1" in console.get(f"/jobs/{job.pk}/").content.decode()


def test_a_paid_order_beyond_the_stock_is_imported_flagged_oversold_and_held(console, run_jobs, tea):
    job = confirm(console, run_jobs, upload(console, run_jobs, csv_file([row(数量="12", 应付金额="718.80")])))
    order = Order.objects.get()
    assert job.summary["oversold"] == 1
    assert order.on_hold
    assert OrderException.objects.filter(order=order, kind=ExceptionKind.OVERSELL, status=ExceptionStatus.OPEN).exists()
    assert OrderEvent.objects.filter(order=order, kind="stock_short").exists()
    assert stock_of(tea) == {"available": 10, "locked": 0, "occupied": 0}


def test_an_unpaid_order_beyond_the_stock_is_refused_like_the_api_refuses_it(console, run_jobs, tea):
    check = upload(console, run_jobs, csv_file([row(订单状态="待支付", 数量="12", 应付金额="718.80")]))
    assert [(line, column) for line, column, _r in errors_of(check)] == [(2, "数量")]


def test_a_douyin_console_export_as_it_comes(console, run_jobs, tea, cup):
    headers = ["主订单编号", "子订单编号", "选购商品", "商家编码", "商品数量", "商品单价", "订单应付金额", "订单提交时间", "订单状态",
               "收件人", "收件人手机号", "省", "市", "区", "街道", "详细地址", "运费", "达人ID"]
    base = {"主订单编号": "\t6938000000000000001", "订单提交时间": "\t2026/11/22 09:00:00", "订单状态": "备货中", "收件人": "张三",
            "收件人手机号": "\t13800138000", "省": "浙江省", "市": "杭州市", "区": "西湖区", "街道": "文新街道", "详细地址": "文三路478号", "运费": "-",
            "达人ID": "-"}
    rows = [
        {**base, "子订单编号": "\t6938000000000000002", "选购商品": "蜂蜜柚子茶", "商家编码": "\tTEA-1", "商品数量": "1", "商品单价": "59.90", "订单应付金额": "54.90"},
        {**base, "子订单编号": "\t6938000000000000003", "选购商品": "马克杯", "商家编码": "CUP-1", "商品数量": "2", "商品单价": "25.00", "订单应付金额": "45.00"},
    ]
    check = upload(console, run_jobs, csv_file(rows, headers=headers, encoding="gbk"))
    assert check.summary["error_count"] == 0, check.summary["errors"]
    assert check.summary["unknown_columns"] == ["达人ID"]
    confirm(console, run_jobs, check)
    order = Order.objects.get(order_no="6938000000000000001")
    assert (order.status, order.payable, order.coupon_discount) == ("paid", Decimal("99.90"), Decimal("10.00"))
    assert order.address_detail == "文新街道文三路478号" and order.phone == "13800138000"
    assert order.lines.count() == 2


def test_a_douyin_row_still_encrypted_is_refused_with_that_reason(console, run_jobs, tea):
    headers = ["主订单编号", "商家编码", "商品数量", "商品单价", "订单应付金额", "订单提交时间", "订单状态", "收件人", "收件人手机号", "省", "市", "区", "详细地址"]
    rows = [{"主订单编号": "\t69380001", "商家编码": "TEA-1", "商品数量": "1", "商品单价": "59.90", "订单应付金额": "59.90",
             "订单提交时间": "2026-11-22 09:00:00", "订单状态": "待发货", "收件人": "##9F8E7D", "收件人手机号": "$$1A2B3C4D$$",
             "省": "浙江省", "市": "杭州市", "区": "西湖区", "详细地址": "##ABCDEF"}]
    check = upload(console, run_jobs, csv_file(rows, headers=headers))
    columns = {column for _l, column, reason in errors_of(check) if "密文" in reason}
    assert columns == {"收件人", "手机号", "详细地址"}


# --- all or nothing, even when the database fails half-way ---


@pytest.mark.django_db(transaction=True)
def test_a_failure_half_way_through_the_write_leaves_nothing_written(console, run_jobs, shop, tea, cup):
    rows = [row(订单号=str(300 + i)) for i in range(3)] + [row(订单号="399", SKU编码="CUP-1", 单价="25.00", 应付金额="50.00")]
    check = upload(console, run_jobs, csv_file(rows))
    assert check.summary["created"] == 4
    # given the database refuses the last order's line (a real failure in the middle of the write)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_cup() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql;"
            f"CREATE TRIGGER refuse_cup BEFORE INSERT ON {OrderLine._meta.db_table} FOR EACH ROW WHEN (NEW.sku_code = 'CUP-1') EXECUTE FUNCTION refuse_cup();"
        )
    try:
        job = confirm(console, run_jobs, check)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER refuse_cup ON {OrderLine._meta.db_table}; DROP FUNCTION refuse_cup();")
    # then the job says it failed, and not one order, line, event or stock move was kept
    job.refresh_from_db()
    assert job.status == "failed" and "disk full" in " ".join(job.errors)
    assert not Order.objects.exists() and not OrderLine.objects.exists() and not OrderEvent.objects.exists()
    assert stock_of(tea) == {"available": 10, "locked": 0, "occupied": 0}


def test_a_number_taken_between_preview_and_confirm_fails_the_write_and_writes_nothing(console, run_jobs, tea, place_order):
    check = upload(console, run_jobs, csv_file([row(订单号="501"), row(订单号="502")]))
    # meanwhile the second number is taken by another order of the shop
    api_order = Order.objects.get(order_no=place_order((tea, 1))["order_no"])
    Order.objects.filter(pk=api_order.pk).update(order_no="502")
    job = confirm(console, run_jobs, check)
    job.refresh_from_db()
    assert job.status == "failed" and any("502" in e for e in job.errors)
    assert not Order.objects.filter(order_no="501").exists()


# --- the command of the contract ---


def test_import_orders_command_dry_run_writes_nothing_then_imports(shop, tea, tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_bytes(csv_file([row()], encoding="gbk"))
    call_command("import_orders", str(path), "--shop", str(shop.pk), "--dry-run")
    assert "would create 1" in capsys.readouterr().out and not Order.objects.exists()
    call_command("import_orders", str(path), "--shop", str(shop.pk))
    assert "created: 1" in capsys.readouterr().out and Order.objects.count() == 1
    call_command("import_orders", str(path), "--shop", str(shop.pk))
    out = capsys.readouterr().out
    assert "created: 0" in out and "skipped: 1" in out
    assert Order.objects.count() == 1


def test_import_orders_command_exits_1_naming_every_bad_row(shop, tea, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_file([row(), row(订单号="2", 手机号="123")]))
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_orders", str(path), "--shop", str(shop.pk))
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert "line 3, 手机号" in out
    assert not Order.objects.exists()


def test_a_warehouse_clerk_cannot_import(shop, run_jobs):
    from django.test import Client

    from shop_admin.kernel.constants import Role
    from tests.factories import make_member

    client = Client()
    client.force_login(make_member(shop, role=Role.WAREHOUSE))
    assert client.get("/imports/").status_code == 403


def test_reasons_uploaded_in_chinese_read_in_english(console, run_jobs, tea, place_order, pay):
    # given a file with bad cells of several kinds, uploaded from the Chinese console
    import re

    existing = place_order((tea, 1))["order_no"]
    content = csv_file(
        [
            row(订单号="20261122000A"),
            row(订单号="202611220002", 数量="abc", 应付金额="x1"),
            row(订单号="202611220003", SKU编码="NOPE-9"),
            row(订单号=existing, 订单状态="交易完成"),
        ]
    )
    check = upload(console, run_jobs, content)
    assert len(errors_of(check)) >= 4
    # when the preview is read in English
    console.cookies["django_language"] = "en"
    page = console.get(f"/imports/{check.pk}/", headers={"HX-Request": "true"}).content.decode()
    # then every reason is English; only the file's own values (the SKU code, a status as typed) may be Chinese
    reasons = re.findall(r"<tr><td>\d+</td><td>[^<]*</td><td>([^<]*)</td></tr>", page)
    assert len(reasons) >= 4
    han = [r for r in reasons if re.search(r"[\u4e00-\u9fff]", r.replace("交易完成", ""))]
    assert han == [], reasons


def _error_report(console, check: BackgroundJob) -> list[list[str]]:
    import csv
    import io

    response = console.get(f"/jobs/{check.pk}/download/")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def _bad_file(place_order, tea) -> bytes:
    existing = place_order((tea, 1))["order_no"]
    return csv_file(
        [
            row(订单号="20261122000A"),
            row(订单号="202611220002", 数量="abc", 应付金额="x1"),
            row(订单号="202611220003", SKU编码="NOPE-9"),
            row(订单号=existing, 订单状态="交易完成"),
        ]
    )


def test_the_error_csv_uploaded_in_chinese_downloads_in_english(console, run_jobs, tea, place_order):
    # given a file with bad cells, uploaded from the Chinese console
    import re

    check = upload(console, run_jobs, _bad_file(place_order, tea))
    # when the error report is downloaded by someone reading English
    console.cookies["django_language"] = "en"
    header, *rows = _error_report(console, check)
    # then the headers and every reason are English; Chinese only in the file's own values (its column names, a
    # status label as typed)
    assert header == ["Line", "Column", "Reason"]
    assert len(rows) >= 4
    allowed = {"交易完成", *ROW}  # the file's data: its header names and a value it holds
    han = []
    for _line, column, reason in rows:
        assert column in ROW, column
        text = reason
        for value in allowed:
            text = text.replace(value, "")
        if re.search(r"[\u4e00-\u9fff]", text):
            han.append(reason)
    assert han == [], rows
    assert any("NOPE-9" in reason for _line, _column, reason in rows)


def test_the_error_csv_uploaded_in_english_downloads_in_chinese(console, run_jobs, tea, place_order):
    # given the same file uploaded from the English console
    console.cookies["django_language"] = "en"
    check = upload(console, run_jobs, _bad_file(place_order, tea))
    english = _error_report(console, check)
    # when a Chinese reader downloads it
    console.cookies["django_language"] = "zh-hans"
    header, *rows = _error_report(console, check)
    # then it reads in Chinese: the same rows, Chinese headers and reasons
    assert header == ["行号", "列", "原因"]
    assert [(r[0], r[1]) for r in rows] == [(r[0], r[1]) for r in english[1:]]
    assert all(r[2] != e[2] for r, e in zip(rows, english[1:], strict=True))
    assert any("本店没有SKU编码" in reason for _line, _column, reason in rows)

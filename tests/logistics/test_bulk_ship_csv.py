"""Bulk shipping from a CSV: the preview names every bad row in any encoding; the good rows ship as one job."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from logistics.models import Shipment
from orders.constants import ExceptionKind
from orders.models import Order
from orders.services.exceptions import exception_open
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.models import BackgroundJob
from tests.factories import make_shop, make_sku
from tests.orders.csv_files import csv_file

HEADERS = ["订单号", "快递公司", "快递单号"]
ENCODINGS = ["utf-8", "utf-8-sig", "gbk"]


@pytest.fixture
def paid(sku, place_order, pay):
    def make() -> str:
        order = place_order((sku, 1))
        pay(order["order_no"])
        return order["order_no"]

    return make


def preview(console, rows, *, encoding="utf-8", headers=HEADERS):
    content = csv_file(rows, headers=headers, encoding=encoding)
    response = console.post("/logistics/bulk-ship/", {"file": SimpleUploadedFile("ship.csv", content, content_type="text/csv")})
    assert response.status_code == 200
    return response.context["plan"], response.content.decode()


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_the_preview_names_every_bad_row_in_each_encoding(console, paid, sku, place_order, shop, encoding):
    good, held, shipped_already, twice = paid(), paid(), paid(), paid()
    unpaid = place_order((sku, 1))["order_no"]
    exception_open(order=Order.objects.get(order_no=held), kind=ExceptionKind.MERCHANT_REPORTED, actor=Actor.system("t"), detail="破损")
    other = make_shop("隔壁店")
    make_sku(other)
    Shipment.objects.create(order=Order.objects.get(order_no=shipped_already), shop_id=shop.pk, carrier="ZTO", tracking_no="73100000000099",
                            shipped_at=Order.objects.get(order_no=shipped_already).created_at)
    rows = [
        {"订单号": good, "快递公司": "中通", "快递单号": "73100000000001"},  # 2: good (Chinese name)
        {"订单号": "99999999", "快递公司": "ZTO", "快递单号": "73100000000002"},  # 3: unknown order
        {"订单号": unpaid, "快递公司": "ZTO", "快递单号": "73100000000003"},  # 4: wrong state
        {"订单号": held, "快递公司": "ZTO", "快递单号": "73100000000004"},  # 5: held by an exception
        {"订单号": twice, "快递公司": "顺风快递", "快递单号": "73100000000005"},  # 6: unknown carrier
        {"订单号": twice, "快递公司": "SF", "快递单号": "123"},  # 7: number not in the carrier's format (and the same order again)
        {"订单号": shipped_already, "快递公司": "中通快递", "快递单号": "73100000000001"},  # 8: duplicate of line 2 in the file
        {"订单号": paid(), "快递公司": "zto", "快递单号": "73100000000099"},  # 9: number already used by a parcel
    ]
    plan, page = preview(console, rows, encoding=encoding)
    found = {(e.line, e.column): e.text for e in plan.errors}
    assert "本店没有订单" in found[(3, "订单号")]
    assert "待支付" in found[(4, "订单号")]
    assert "异常" in found[(5, "订单号")]
    assert "顺风快递" in found[(6, "快递公司")]
    assert "格式" in found[(7, "快递单号")] and "同一订单" in found[(7, "订单号")]
    assert "第2行" in found[(8, "快递单号")]
    assert "已用于其他订单" in found[(9, "快递单号")]
    assert [row["order_no"] for row in plan.rows] == [good]
    assert "确认发货 1 单" in page and "73100000000099" not in [r["tracking_no"] for r in plan.rows]
    # nothing shipped yet
    assert Order.objects.get(order_no=good).status == "paid"


def test_a_missing_column_is_named(console, paid):
    plan, _page = preview(console, [{"订单号": paid(), "快递单号": "73100000000001"}], headers=["订单号", "快递单号", "备注"])
    assert [(e.line, e.column, e.text) for e in plan.errors] == [(1, "快递公司", "缺少必填列")]
    assert plan.unknown_columns == ["备注"]


def test_confirmed_good_rows_ship_as_one_job_with_progress_and_once(console, paid, run_jobs):
    first, second = paid(), paid()
    preview(console, [{"订单号": first, "快递公司": "中通", "快递单号": "73100000000011"}, {"订单号": second, "快递公司": "YUNDA", "快递单号": "4300000000012"}],
            encoding="gbk")
    with run_jobs():
        response = console.post("/logistics/bulk-ship/", {"action": "apply_upload"})
    job = BackgroundJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    assert (job.kind, job.status, job.done, job.failed, job.total) == ("logistics_bulk_ship", "done", 2, 0, 2)
    assert Order.objects.get(order_no=first).status == "shipped"
    assert set(Shipment.objects.values_list("carrier", "tracking_no")) == {("ZTO", "73100000000011"), ("YUNDA", "4300000000012")}
    assert "成功 2" in console.get(f"/jobs/{job.pk}/").content.decode()
    # the preview is used up: confirming again ships nothing more
    response = console.post("/logistics/bulk-ship/", {"action": "apply_upload"})
    assert response.status_code == 302 and BackgroundJob.objects.filter(kind="logistics_bulk_ship").count() == 1
    assert Shipment.objects.count() == 2


def test_the_selection_path_still_works(console, paid, run_jobs):
    order_no = paid()
    page = console.get(f"/logistics/bulk-ship/?order_no={order_no}").content.decode()
    assert f'name="tracking_{order_no}"' in page and "上传发货文件" in page
    with run_jobs():
        console.post("/logistics/bulk-ship/", {"order_no": [order_no], f"carrier_{order_no}": "ZTO", f"tracking_{order_no}": "73100000000021"})
    assert Order.objects.get(order_no=order_no).status == "shipped"

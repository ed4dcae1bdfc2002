"""Printed waybills and packing slips: barcodes a scanner reads back, Chinese text, shop scoping, the selection job."""
import shutil
import subprocess
import tracemalloc
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from logistics.models import Shipment
from logistics.waybill import Waybill, WaybillItem, waybills_render
from orders.models import Order
from shop_admin.kernel.constants import Role
from shop_admin.kernel.models import BackgroundJob
from tests.factories import ADDRESS, make_member, make_shop, make_sku, order_payload

TOOLS = ("pdftoppm", "pdftotext", "pdfinfo", "zbarimg")


@pytest.fixture(autouse=True)
def print_tools():
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    assert not missing, f"{', '.join(missing)} missing: `make print-tools` installs poppler-utils and zbar-tools"


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pdf_file(content: bytes, tmp_path, name: str = "labels"):
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(content)
    return path


def scanned(path) -> list[str]:
    """Every barcode zbar finds on the pages, rasterised at a label printer's resolution."""
    subprocess.run(["pdftoppm", "-r", "300", "-png", str(path), str(path.with_suffix(""))], check=True)
    pages = sorted(path.parent.glob(f"{path.stem}-*.png"))
    assert pages
    return subprocess.run(["zbarimg", "--quiet", "--raw", *map(str, pages)], capture_output=True, text=True).stdout.split()


def text_of(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def page_count(path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert info.stderr == "", info.stderr  # poppler says so when the file's structure is off
    return int(next(line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages:")))


@pytest.fixture
def shipped_order(sku, place_order, pay, merchant_api):
    order = place_order((sku, 2), buyer_message="请放快递柜")
    pay(order["order_no"])
    status, body = merchant_api.post(f"/merchant/orders/{order['order_no']}/ship", {"carrier": "SF", "tracking_no": "SF1234567890123"})
    assert status == 200, body
    return order


# --- one order ---


def test_waybill_barcodes_scan_back_and_the_chinese_text_is_there(console, shipped_order, tmp_path):
    # when
    response = console.get(f"/orders/{shipped_order['order_no']}/waybill.pdf")
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    path = pdf_file(response.content, tmp_path)
    assert page_count(path) == 2  # the waybill, then the packing slip
    codes = scanned(path)
    assert shipped_order["order_no"] in codes
    assert "SF1234567890123" in codes
    text = text_of(path)
    assert ADDRESS["name"] in text
    assert "138****8000" in text and ADDRESS["phone"] not in text
    assert "文三路478号" in text and "蜂蜜柚子茶" in text and "顺丰" in text
    assert "发货清单" in text and "请放快递柜" in text


def test_the_latest_parcel_is_the_one_printed(console, shipped_order, tmp_path):
    # given: the parcel went missing and the merchant reshipped with another carrier
    order = Order.objects.get(order_no=shipped_order["order_no"])
    Shipment.objects.create(
        order=order, shop_id=order.shop_id, carrier="ZTO", tracking_no="73100000000999", shipped_at=timezone.now() + timedelta(hours=1)
    )
    # when
    path = pdf_file(console.get(f"/orders/{order.order_no}/waybill.pdf").content, tmp_path)
    # then
    codes = scanned(path)
    assert "73100000000999" in codes and "SF1234567890123" not in codes
    assert "中通" in text_of(path)


def test_an_unshipped_order_prints_without_a_tracking_number(console, sku, place_order, pay, tmp_path):
    order = place_order((sku, 1))
    pay(order["order_no"])
    path = pdf_file(console.get(f"/orders/{order['order_no']}/waybill.pdf").content, tmp_path)
    assert sorted(scanned(path)) == [order["order_no"], order["order_no"]]  # on the waybill and on the slip
    assert "尚未发货" in text_of(path)


@pytest.mark.parametrize("role", [Role.OWNER, Role.SERVICE, Role.WAREHOUSE])
def test_every_role_may_print(shop, shipped_order, role):
    clerk = as_user(make_member(shop, role=role))
    response = clerk.get(f"/orders/{shipped_order['order_no']}/waybill.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")


def test_another_shops_order_is_a_404(shipped_order):
    stranger = as_user(make_member(make_shop("隔壁店")))
    assert stranger.get(f"/orders/{shipped_order['order_no']}/waybill.pdf").status_code == 404


def test_a_signed_out_visitor_is_sent_to_sign_in(shipped_order):
    url = f"/orders/{shipped_order['order_no']}/waybill.pdf"
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


def test_the_order_page_links_to_its_waybill(console, shipped_order):
    page = console.get(f"/orders/{shipped_order['order_no']}/").content.decode()
    assert f'href="/orders/{shipped_order["order_no"]}/waybill.pdf"' in page


# --- a selection, as a background job ---


def test_a_selection_prints_as_one_pdf_by_a_job(console, sku, place_order, pay, merchant_api, buyer_api, run_jobs, tmp_path):
    # given: two shipped orders and one not shipped yet, then an order of another shop and a number of no order
    numbers = []
    for tracking_no in ("SF1234567890001", "SF1234567890002", None):
        order = place_order((sku, 1))
        pay(order["order_no"])
        if tracking_no:
            status, body = merchant_api.post(f"/merchant/orders/{order['order_no']}/ship", {"carrier": "SF", "tracking_no": tracking_no})
            assert status == 200, body
        numbers.append(order["order_no"])
    other_shop = make_shop("隔壁店")
    status, body = buyer_api.post("/orders", order_payload(other_shop, (make_sku(other_shop), 1)))
    assert status == 201, body
    foreign, unknown = body["order_no"], "1" * 22
    # when
    with run_jobs():
        response = console.post("/logistics/waybills/", {"order_no": numbers + [foreign, unknown]})
    # then
    assert response.status_code == 302
    job = BackgroundJob.objects.get()
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert (job.kind, job.status, job.total, job.done, job.failed) == ("logistics_waybills_print", "done", 5, 3, 2)
    assert [e.split("：")[0] for e in job.errors] == [foreign, unknown] and all("订单不存在" in e for e in job.errors)
    page = console.get(response["Location"]).content.decode()
    assert "打印面单" in page and 'value="100"' in page and f"/jobs/{job.pk}/download/" in page
    download = console.get(f"/jobs/{job.pk}/download/")
    assert download.status_code == 200
    path = pdf_file(b"".join(download.streaming_content), tmp_path)  # streamed from storage
    assert page_count(path) == 2 * len(numbers)  # a waybill and a packing slip for each order of the shop
    codes = scanned(path)
    assert {*numbers, "SF1234567890001", "SF1234567890002"} <= set(codes)
    assert foreign not in codes


def test_an_empty_selection_starts_no_job(console):
    response = console.post("/logistics/waybills/", {})
    assert response.status_code == 302 and response["Location"] == "/orders/"
    assert not BackgroundJob.objects.exists()


def test_a_selection_with_no_order_of_the_shop_offers_nothing_to_download(console, run_jobs):
    with run_jobs():
        response = console.post("/logistics/waybills/", {"order_no": ["1" * 22]})
    job = BackgroundJob.objects.get()
    assert (job.status, job.done, job.failed, bool(job.result_file)) == ("done", 0, 1, False)
    assert "/download/" not in console.get(response["Location"]).content.decode()


# --- the PDF itself ---


def _waybill(index: int, *, items: int = 1) -> Waybill:
    return Waybill(
        order_no=f"0001260101120000{index:06d}",
        shop_name="测试旗舰店",
        recipient_name="张三",
        phone_masked="138****8000",
        address="浙江省 杭州市 西湖区 文三路478号",
        items=tuple(WaybillItem(product_name=f"蜂蜜柚子茶 <礼盒> & 吸管 {n}", spec="500g×2瓶", quantity=1) for n in range(items)),
        carrier="中通",
        tracking_no=f"7310000{index:07d}",
    )


def test_a_long_packing_slip_goes_on_over_more_pages(tmp_path):
    with open(tmp_path / "long.pdf", "wb") as out:
        pages = waybills_render([_waybill(1, items=45)], out)
    path = tmp_path / "long.pdf"
    assert pages == page_count(path) >= 3
    text = text_of(path)
    assert "发货清单（续）" in text
    assert "蜂蜜柚子茶 <礼盒> & 吸管 0" in text and "蜂蜜柚子茶 <礼盒> & 吸管 44" in text
    assert "合计 45 件" in text


class _Discard:
    """A file that keeps nothing: what is measured is what the renderer holds, not the document."""

    def write(self, data: bytes) -> None:
        pass


def _peak_bytes(orders: int) -> int:
    """The most memory that rendering this many orders took at once."""
    tracemalloc.start()
    try:
        waybills_render((_waybill(i) for i in range(orders)), _Discard())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_however_many_labels():
    held_per_order = (_peak_bytes(110) - _peak_bytes(10)) / 100
    # reportlab on its own holds every page until save(), several times the bound below an order. Pages written as
    # they are finished leave only reportlab's bookkeeping of object numbers, well under it.
    assert held_per_order < 4096, held_per_order


def test_the_sender_block_prints_the_shops_sender_or_falls_back_to_its_name_and_warehouse(console, shop, shipped_order, tmp_path):
    # given: no sender set: the shop's name and the warehouse the goods leave from
    url = f"/orders/{shipped_order['order_no']}/waybill.pdf"
    warehouse = shop.warehouses.get()
    text = text_of(pdf_file(console.get(url).content, tmp_path, "fallback"))
    assert f"寄件：{shop.name}" in text and warehouse.name in text
    # when: the platform sets the shop's sender in the admin
    shop.sender_name, shop.sender_phone, shop.sender_address = "李发货", "0571-88886666", "浙江省杭州市余杭区仓前街道良睦路1399号"
    shop.save()
    # then
    text = text_of(pdf_file(console.get(url).content, tmp_path, "sender"))
    assert "寄件：李发货 0571-88886666" in text and "良睦路1399号" in text

"""Platform staff import and export the console's order CSV in the Django admin, with the same checks."""
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from orders.models import Order
from tests.factories import make_sku
from tests.orders.csv_files import csv_file, row


@pytest.fixture
def staff(db):
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("arbiter_t", password="pw-123456"))
    return client


def test_admin_import_previews_bad_rows_then_imports_into_the_chosen_shop(staff, shop):
    make_sku(shop, code="TEA-1", stock=10)
    bad = csv_file([row(订单号="1"), row(订单号="2", 手机号="123")], encoding="utf-8-sig")
    page = staff.post("/admin/orders/order/import/", {"shop": shop.pk, "format": "0", "import_file": SimpleUploadedFile("o.csv", bad)})
    assert page.status_code == 200
    assert "手机号须为11位中国大陆手机号" in page.content.decode() and page.context.get("confirm_form") is None
    good = csv_file([row(订单号="1")], encoding="utf-8-sig")
    page = staff.post("/admin/orders/order/import/", {"shop": shop.pk, "format": "0", "import_file": SimpleUploadedFile("o.csv", good)})
    confirm = page.context["confirm_form"]
    assert not Order.objects.exists()
    response = staff.post("/admin/orders/order/process_import/", {**confirm.initial})
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.order_no, order.shop_id, order.status) == ("1", shop.pk, "paid")


def test_admin_export_gives_the_contract_columns_one_row_per_line(staff, shop):
    from orders.imports.apply import orders_import_apply
    from shop_admin.kernel.actors import Actor
    from shop_admin.kernel.csvio import csv_read

    make_sku(shop, code="TEA-1", stock=10)
    orders_import_apply(shop_id=shop.pk, actor=Actor.system("t"), table=csv_read(csv_file([row(订单号="20261122000000000001", 商家备注="=1+1")])), source="t")
    response = staff.post("/admin/orders/order/export/", {"format": "0", "export_items": [Order.objects.get().pk]})
    assert response.status_code == 200, response.content[:500]
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("订单号,下单时间,订单状态,SKU编码")
    assert "\t20261122000000000001" in text and "'=1+1" in text


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8-sig", "utf-8"])
def test_admin_import_reads_the_encodings_excel_writes(staff, shop, encoding):
    make_sku(shop, code="TEA-1", stock=10)
    content = csv_file([row(订单号="1", 收件人="张三丰", 详细地址="文三路478号华星时代广场A座")], encoding=encoding)
    page = staff.post("/admin/orders/order/import/", {"shop": shop.pk, "format": "0", "import_file": SimpleUploadedFile("o.csv", content)})
    assert page.status_code == 200
    confirm = page.context["confirm_form"]
    assert staff.post("/admin/orders/order/process_import/", {**confirm.initial}).status_code == 302
    order = Order.objects.get()
    assert (order.order_no, order.recipient_name, order.address_detail) == ("1", "张三丰", "文三路478号华星时代广场A座")

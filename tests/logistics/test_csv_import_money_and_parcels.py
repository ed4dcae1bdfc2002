"""Orders imported already shipped get their parcel (through logistics' order part), and paid ones their money in the
ledger, as API orders do: reconciliation finds nothing to say about them."""
from datetime import date

import pytest
from django.utils import timezone

from logistics.models import Shipment
from orders.imports.apply import orders_import_apply
from orders.imports.check import orders_import_plan
from orders.models import LedgerEntry, Order, Payment, Settlement
from orders.reconcile import reconcile_day
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.csvio import csv_read
from tests.factories import make_sku
from tests.orders.csv_files import csv_file, row


@pytest.fixture
def tea(shop):
    return make_sku(shop, price="59.90", stock=1000, code="TEA-1", name="蜂蜜柚子茶")


def apply(shop, rows):
    return orders_import_apply(shop_id=shop.pk, actor=Actor.system("test"), table=csv_read(csv_file(rows)), source="t.csv")


def test_shipped_and_signed_orders_get_their_parcel_and_paid_ones_their_ledger(shop, tea):
    plan = apply(
        shop,
        [
            row(订单号="1", 订单状态="已发货", 快递公司="中通", 快递单号="731000000001"),
            row(订单号="2", 订单状态="已签收", 快递公司="SF", 快递单号="sf0000000000002"),
            row(订单号="3", 订单状态="交易完成", 快递公司="京东快递", 快递单号="JD0000000003"),
            row(订单号="4", 订单状态="已发货"),  # shipped elsewhere, parcel unknown
            row(订单号="5", 订单状态="待发货", 快递公司="中通", 快递单号="731000000005"),  # not shipped: no parcel
            row(订单号="6", 订单状态="待支付"),
            row(订单号="7", 订单状态="已取消"),
        ],
    )
    assert not plan.errors, plan.errors
    parcels = {s.order.order_no: s for s in Shipment.objects.select_related("order")}
    assert sorted(parcels) == ["1", "2", "3"]
    assert (parcels["1"].carrier, parcels["1"].tracking_no, parcels["1"].status) == ("ZTO", "731000000001", "in_transit")
    assert parcels["1"].stall_deadline > timezone.now()  # the stall clock runs from the import
    assert (parcels["2"].carrier, parcels["2"].tracking_no, parcels["2"].status) == ("SF", "SF0000000000002", "signed")
    assert parcels["2"].signed_at == parcels["2"].order.created_at and parcels["2"].stall_deadline is None
    assert parcels["3"].carrier == "JD"
    # money: a succeeded payment and its escrow entry for every paid order, a settlement for the completed one
    escrow = {e.order.order_no: e for e in LedgerEntry.objects.filter(kind="escrow_in").select_related("order", "payment")}
    assert sorted(escrow) == ["1", "2", "3", "4", "5"]
    for entry in escrow.values():
        assert entry.amount == entry.order.paid_amount == entry.payment.amount and entry.payment.status == "succeeded"
    settlement = Settlement.objects.get()
    assert settlement.order.order_no == "3" and settlement.gross == settlement.commission + settlement.net
    assert not Payment.objects.filter(order__order_no__in=["6", "7"]).exists()
    # reconciliation agrees, on the day of the import and on the day the file says the orders were paid
    for day in (timezone.localdate(), date(2026, 11, 22)):
        assert reconcile_day(day=day).found == [], day
    # the same file again writes nothing twice
    again = apply(shop, [row(订单号="1", 订单状态="已发货", 快递公司="中通", 快递单号="731000000001")])
    assert (len(again.new), again.skipped) == (0, 1)
    assert Shipment.objects.count() == 3 and LedgerEntry.objects.filter(kind="escrow_in").count() == 5


def test_bad_parcel_cells_are_bad_rows_and_nothing_is_written(shop, tea):
    apply(shop, [row(订单号="90", 订单状态="已发货", 快递公司="中通", 快递单号="731000000099")])
    rows = [
        row(订单号="1", 订单状态="已发货", 快递公司="顺风", 快递单号="SF0000000000001"),  # unknown carrier
        row(订单号="2", 订单状态="已发货", 快递公司="中通", 快递单号="12"),  # not a ZTO number
        row(订单号="3", 订单状态="已发货", 快递单号="731000000003"),  # number without carrier
        row(订单号="4", 订单状态="已签收", 快递公司="中通"),  # carrier without number
        row(订单号="5", 订单状态="已发货", 快递公司="中通", 快递单号="731000000099"),  # another order's parcel
        row(订单号="6", 订单状态="已发货", 快递公司="中通", 快递单号="731000000006"),
        row(订单号="7", 订单状态="交易完成", 快递公司="ZTO", 快递单号="731000000006"),  # twice in the file
    ]
    plan = orders_import_plan(shop_id=shop.pk, table=csv_read(csv_file(rows)))
    bad = {(e.line, e.column) for e in plan.errors}
    assert bad == {(2, "快递公司"), (3, "快递单号"), (4, "快递公司"), (5, "快递单号"), (6, "快递单号"), (8, "快递单号")}, plan.errors
    assert "第7行" in next(e.text for e in plan.errors if e.line == 8)
    assert apply(shop, rows).errors and Shipment.objects.count() == 1 and Order.objects.count() == 1
